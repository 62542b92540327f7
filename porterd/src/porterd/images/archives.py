"""`docker save` and `docker load` over the store, through porter_image.docker_archive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from porter_image.docker_archive import SavedImage, read_docker_archive, write_docker_archive
from porter_image.errors import ImageError
from porter_image.reference import InvalidReferenceError, parse_docker_reference

from porterd.errors import DaemonError, InvalidParameter
from porterd.images import index
from porterd.images.importing import incoming_tag
from porterd.images.records import StoredImage

if TYPE_CHECKING:
    from porterd.images.store import ImageStore


def save(store: ImageStore, names: Sequence[str], out: BinaryIO) -> None:
    """Write a docker-archive of the images `names` name to `out`. A repository without a
    tag saves every tag of it, as dockerd does; an id saves the image without names."""
    chosen: dict[str, tuple[StoredImage, list[str]]] = {}
    for name in names:
        for stored, tags in _selected(store, name):
            kept = chosen.setdefault(stored.id, (stored, []))[1]
            kept += [t for t in tags if t not in kept]
    images = [SavedImage(store.image(stored), tuple(tags)) for stored, tags in chosen.values()]
    write_docker_archive(store.layout(), images, out)
    for stored, _tags in chosen.values():
        store._publish("save", stored.id)


def _selected(store: ImageStore, name: str) -> list[tuple[StoredImage, list[str]]]:
    try:
        reference = parse_docker_reference(name, default_tag=False)
    except InvalidReferenceError:
        reference = None
    if reference is not None and reference.tag is None and reference.digest is None:
        tagged = [
            (
                stored,
                [
                    parse_docker_reference(n).familiar()
                    for n in stored.names
                    if _in(n, reference.name)
                ],
            )
            for stored in store.images()
        ]
        tagged = [(stored, tags) for stored, tags in tagged if tags]
        if tagged:
            return tagged
    stored, by_id = store._resolve(name, store._scan())
    if by_id or reference is None:
        return [(stored, [])]
    return [(stored, [parse_docker_reference(name).familiar()])]


def _familiar(name: str) -> str:
    return parse_docker_reference(name).familiar()


def _in(name: str, repository: str) -> bool:
    return "@" not in name and parse_docker_reference(name).name == repository


def load(store: ImageStore, stream: BinaryIO) -> list[str]:
    """Store every image of the docker-archive `stream`; the lines dockerd answers with."""
    tags: list[str] = []

    def tag_for(_: int) -> str:
        tags.append(incoming_tag())
        return tags[-1]

    layout = store.layout()
    try:
        loaded = read_docker_archive(stream, layout, store.root / "tmp", tag_for)
        lines = []
        for image in loaded:
            names = [str(parse_docker_reference(t)) for t in image.repo_tags]
            stored = store.adopt(image.tag, names)
            store._publish("load", stored.id)
            lines += [f"Loaded image: {t}" for t in image.repo_tags] or [
                f"Loaded image ID: {stored.id}"
            ]
        return lines
    except (ImageError, InvalidReferenceError) as exc:
        raise InvalidParameter(str(exc)) from exc
    except OSError as exc:  # the store's own disk: full, read-only
        store.collect_later()
        raise DaemonError(f"cannot load the images: {exc.strerror or exc}") from exc
    finally:
        left = set(tags)
        index.edit_entries(
            layout, lambda entries: [e for e in entries if index.entry_name(e) not in left]
        )
