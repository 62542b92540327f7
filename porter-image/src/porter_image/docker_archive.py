"""The tar `docker save` writes and `docker load` reads, to and from an OCI image layout.

Written as docker 25 writes it: an OCI image layout (`oci-layout`, `index.json`, `blobs/`)
with docker's `manifest.json` (one entry per image: `Config`, `RepoTags`, `Layers`, all paths
into `blobs/`) and the legacy `repositories` file, so both docker and OCI tools read it. Read in
either form docker has written (layers as `blobs/sha256/<hex>` or as `<id>/layer.tar`), layers
plain or compressed. The tar is streamed both ways: a save writes to any stream (an HTTP
response), a load spools the members to files in a folder of the caller's, never into memory.
"""

from __future__ import annotations

import errno
import io
import json
import posixpath
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from porter_specs import media_types
from porter_specs.canonical import canonical_json
from porter_specs.digest import Digest, from_stream
from porter_specs.models import Descriptor

from porter_image.errors import ImageError
from porter_image.image import Image, commit_image
from porter_image.layer import compression
from porter_image.layer.errors import LayerError
from porter_image.layout import REF_NAME, Layout

MANIFEST = "manifest.json"
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}
MAX_MEMBERS = 100_000


@dataclass(frozen=True)
class SavedImage:
    """One image to save: what it is and the names (`repo:tag`, familiar) it goes out under."""

    image: Image
    repo_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadedImage:
    """One image a load committed: the layout tag it is under now, and its `RepoTags`."""

    tag: str
    descriptor: Descriptor
    repo_tags: tuple[str, ...]


def write_docker_archive(layout: Layout, images: Sequence[SavedImage], out: BinaryIO) -> None:
    """Stream a docker-archive of `images` (all from `layout`) to `out`."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        written: set[Digest] = set()
        for saved in images:
            image = saved.image
            for descriptor in (image.descriptor, image.manifest.config, *image.manifest.layers):
                if descriptor.digest not in written:
                    written.add(descriptor.digest)
                    with layout.open_blob(descriptor.digest) as blob:
                        _add(tar, _blob_path(descriptor.digest), blob, descriptor.size)
        index = {
            "schemaVersion": 2,
            "mediaType": media_types.IMAGE_INDEX,
            "manifests": [_index_entry(saved) for saved in images],
        }
        _add_bytes(tar, "index.json", canonical_json(index))
        _add_bytes(tar, MANIFEST, json.dumps([_manifest_entry(s) for s in images]).encode())
        layout_file = {"imageLayoutVersion": media_types.OCI_LAYOUT_VERSION}
        _add_bytes(tar, "oci-layout", canonical_json(layout_file))
        _add_bytes(tar, "repositories", json.dumps(_repositories(images)).encode())


def _blob_path(digest: Digest) -> str:
    return f"blobs/{digest.algorithm}/{digest.encoded}"


def _index_entry(saved: SavedImage) -> dict[str, Any]:
    descriptor = saved.image.descriptor
    plain = Descriptor(descriptor.media_type, descriptor.digest, descriptor.size)
    if saved.repo_tags:
        plain = plain.with_annotations(**{REF_NAME: saved.repo_tags[0]})
    return plain.to_json()


def _manifest_entry(saved: SavedImage) -> dict[str, Any]:
    return {
        "Config": _blob_path(saved.image.manifest.config.digest),
        "RepoTags": list(saved.repo_tags) or None,
        "Layers": [_blob_path(layer.digest) for layer in saved.image.manifest.layers],
    }


def _repositories(images: Sequence[SavedImage]) -> dict[str, dict[str, str]]:
    """`{repo: {tag: top layer id}}`, the file docker's oldest loaders still read."""
    found: dict[str, dict[str, str]] = {}
    for saved in images:
        layers = saved.image.manifest.layers
        if not layers:
            continue
        for name in saved.repo_tags:
            repo, _, tag = name.rpartition(":")
            if repo and "/" not in tag:
                found.setdefault(repo, {})[tag] = layers[-1].digest.encoded
    return found


def _add(tar: tarfile.TarFile, name: str, stream: BinaryIO, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o444, 0
    tar.addfile(info, stream)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    _add(tar, name, io.BytesIO(data), len(data))


# -- loading -------------------------------------------------------------------------------


def read_docker_archive(
    stream: BinaryIO, layout: Layout, spool: Path, tag_for: Callable[[int], str]
) -> list[LoadedImage]:
    """Load every image of the docker-archive `stream` into `layout`; `tag_for(i)` names the
    layout tag the i-th image is committed under. Members are spooled into a temporary folder
    under `spool` (removed at the end). ImageError for an archive that is not docker's."""
    spool.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="docker-archive-", dir=spool))
    try:
        members = _spool(stream, folder)
        entries = _manifest(members)
        return [_load_one(layout, members, entry, tag_for(i)) for i, entry in enumerate(entries)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _spool(stream: BinaryIO, folder: Path) -> dict[str, Path]:
    """Regular files of the tar by their clean name, each in a numbered file of `folder`;
    symlinks (docker's legacy layer dedup) point at the file they name."""
    members: dict[str, Path] = {}
    links: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            for count, member in enumerate(tar):
                if count >= MAX_MEMBERS:
                    raise ImageError("docker archive", f"more than {MAX_MEMBERS} members")
                name = posixpath.normpath(member.name.lstrip("/"))
                if member.issym():
                    links[name] = posixpath.normpath(
                        posixpath.join(posixpath.dirname(name), member.linkname)
                    )
                elif member.isfile():
                    target = folder / str(count)
                    source = tar.extractfile(member)
                    assert source is not None
                    with source, open(target, "wb") as out:
                        shutil.copyfileobj(source, out, 1 << 20)
                    members[name] = target
    except OSError as exc:
        if exc.errno in _DISK_ERRORS:
            raise  # the spool's disk, not the archive
        raise ImageError("docker archive", f"not a readable tar: {exc}") from exc
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise ImageError("docker archive", f"not a readable tar: {exc}") from exc
    for name, target in links.items():
        if target in members:
            members[name] = members[target]
    return members


def _manifest(members: dict[str, Path]) -> list[dict[str, Any]]:
    if MANIFEST not in members:
        raise ImageError("docker archive", f"no {MANIFEST} (not made by docker save)")
    try:
        document = json.loads(members[MANIFEST].read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError("docker archive", f"{MANIFEST} is not JSON: {exc}") from exc
    if not isinstance(document, list) or not all(isinstance(e, dict) for e in document):
        raise ImageError("docker archive", f"{MANIFEST} is not a list of images")
    return document


def _member(members: dict[str, Path], name: Any) -> Path:
    if not isinstance(name, str) or posixpath.normpath(name) not in members:
        raise ImageError("docker archive", f"{MANIFEST} names {name!r}, which it does not hold")
    return members[posixpath.normpath(name)]


def _load_one(
    layout: Layout, members: dict[str, Path], entry: dict[str, Any], tag: str
) -> LoadedImage:
    config_path = _member(members, entry.get("Config"))
    layers = entry.get("Layers") or []
    if not isinstance(layers, list):
        raise ImageError("docker archive", f"{MANIFEST}: Layers is not a list")
    repo_tags = entry.get("RepoTags") or []
    if not isinstance(repo_tags, list) or not all(isinstance(t, str) for t in repo_tags):
        raise ImageError("docker archive", f"{MANIFEST}: RepoTags is not a list of names")
    try:
        config = json.loads(config_path.read_bytes())
        diff_ids = [Digest.parse(d) for d in config["rootfs"]["diff_ids"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ImageError("docker archive", f"config {entry.get('Config')}: {exc}") from exc
    if len(diff_ids) != len(layers):
        raise ImageError(
            "docker archive", f"{len(layers)} layers but {len(diff_ids)} diff_ids in the config"
        )
    with layout.writing():
        descriptors = tuple(
            _store_layer(layout, _member(members, name), diff_id)
            for name, diff_id in zip(layers, diff_ids, strict=True)
        )
        descriptor = commit_image(layout, tag, config, descriptors)
    return LoadedImage(tag, descriptor, tuple(repo_tags))


def _store_layer(layout: Layout, path: Path, diff_id: Digest) -> Descriptor:
    """Store a layer file as it is, typed by its compression, after checking its diff_id."""
    with open(path, "rb") as layer:
        kind = compression.detect(layer.read(4))
        layer.seek(0)
        try:
            actual, _ = _uncompressed_digest(layer, kind)
        except LayerError as exc:
            raise ImageError(f"layer {diff_id}", str(exc)) from exc
        if actual != diff_id:
            raise ImageError(f"layer {diff_id}", f"content is {actual}, not the config's diff_id")
        layer.seek(0)
        digest, size = layout.put_blob(layer)
    return Descriptor(media_types.layer_media_type(kind), digest, size)


def _uncompressed_digest(stream: BinaryIO, kind: str) -> tuple[Digest, int]:
    if kind == "none":
        return from_stream(stream)
    reader = _ChunkReader(compression.decompressed_chunks(stream, kind))
    return from_stream(cast(BinaryIO, reader))


class _ChunkReader:
    """A read() over an iterator of chunks (each read returns the next non-empty chunk)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def read(self, size: int = -1) -> bytes:
        for chunk in self._chunks:
            if chunk:
                return chunk
        return b""
