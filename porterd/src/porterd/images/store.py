"""The image store: an OCI image layout under the data root plus the layer snapshots.

    DATA_ROOT/image/layout/      the OCI image layout (skopeo and umoci read it): blobs, and
                                 index.json naming each image by its full docker references
    DATA_ROOT/image/snapshots/   each layer unpacked once, by chain id (porter_image.snapshots)

An image's id is its config's digest, as dockerd's are. Names resolve as dockerd resolves them:
a reference (`busybox`, `busybox:latest`, `docker.io/library/busybox`, `x@sha256:...`) first,
then an id or an unambiguous id prefix. Everything that changes index.json goes through
`index.edit_entries`, atomically; blobs and snapshots nothing names any more are collected after
a removal.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from porter_image.distribution.auth import Credentials
from porter_image.errors import LayoutError
from porter_image.image import Image, load_descriptor
from porter_image.layout import IndexEntry, Layout
from porter_image.reference import DockerReference, InvalidReferenceError, parse_docker_reference
from porter_image.snapshots import SnapshotError, SnapshotStore, chain_ids
from porter_specs.digest import Digest
from porter_specs.errors import PorterError
from porter_specs.models import Descriptor, Platform

from porterd.errors import DaemonError, InvalidParameter, NotFound
from porterd.images import archives, index, registry
from porterd.images.importing import INCOMING, import_rootfs
from porterd.images.records import (
    ContainerImage,
    DeleteResult,
    EventSink,
    ImageUsage,
    NoContainers,
    PruneResult,
    StoredImage,
)
from porterd.images.registry import Emit, RegistrySettings
from porterd.images.removal import prune_images, remove_image

log = logging.getLogger("porterd.images")
_HEX_PREFIX = re.compile(r"(?:sha256:)?([a-f0-9]{1,64})")


class ImageStore:
    """Images under `data_root`; see the module docstring. Thread-safe."""

    def __init__(
        self,
        *,
        data_root: Path,
        usage: ImageUsage | None = None,
        events: EventSink | None = None,
        registry: RegistrySettings | None = None,
    ) -> None:
        self.root = Path(data_root) / "image"
        self.layout_path = self.root / "layout"
        self.root.mkdir(parents=True, exist_ok=True)
        Layout.open_or_create(self.layout_path)
        self.snapshots = SnapshotStore(self.root / "snapshots")
        self.usage: ImageUsage = usage or NoContainers()
        self.events = events
        self.registry = registry or RegistrySettings()
        self._images: dict[Digest, Image] = {}  # by manifest digest: content never changes
        self._unpacked_sizes: dict[Digest, int] = {}  # by chain id, until collected
        self._changing = threading.RLock()
        self._drop_incoming()

    def _drop_incoming(self) -> None:
        """Forget images a crash left between their commit and their naming, and their blobs."""
        layout = self.layout()
        stale = {e.tag for e in layout.entries() if e.tag and e.tag.startswith(INCOMING)}
        if stale:
            index.edit_entries(layout, lambda entries: index.without(entries, stale))
            self.collect()

    # -- reading -----------------------------------------------------------------------------

    def layout(self) -> Layout:
        """The layout, opened for this caller (its locks are per object, so per thread)."""
        return Layout(self.layout_path)

    def images(self) -> list[StoredImage]:
        """Every image, newest first."""
        found = list(self._scan().values())
        found.sort(key=lambda image: str(image.config.get("created") or ""), reverse=True)
        return found

    def get(self, name: str) -> StoredImage:
        """The image `name` names (reference, id or id prefix); NotFound when none does."""
        return self._resolve(name, self._scan())[0]

    def image(self, stored: StoredImage) -> Image:
        """The manifest and config of a stored image, as porter_image reads them."""
        return self._load(self.layout(), Descriptor("", stored.manifest_digest, 0))

    def container_image(self, name: str, holder: str) -> ContainerImage:
        """What a container made from `name` mounts: the config and the lowerdirs. The
        snapshots are leased to `holder` (the container id) until `release(holder)`."""
        with self._changing:  # no removal between finding the image and leasing its layers
            stored = self.get(name)
            chain = chain_ids(stored.diff_ids)
            self.snapshots.lease(holder, chain)
        try:
            self.snapshots.prepare(self.layout(), self.image(stored))
            lowerdirs = self.snapshots.lowerdirs(chain)
        except BaseException:
            self.snapshots.release(holder)
            raise
        return ContainerImage(stored.id, stored.config, lowerdirs, chain)

    def lowerdirs(self, stored: StoredImage) -> tuple[Path, ...]:
        """The overlay lowerdirs of `stored` (topmost first); () while a layer is not unpacked."""
        try:
            return self.snapshots.lowerdirs(chain_ids(stored.diff_ids))
        except SnapshotError:
            return ()

    def release(self, holder: str) -> None:
        """The container `holder` is gone: its snapshots may be collected with its image."""
        self.snapshots.release(holder)

    # -- naming --------------------------------------------------------------------------------

    def tag(self, name: str, repo: str, tag: str | None = None) -> str:
        """Give the image `name` the reference `repo[:tag]`; returns the full new name."""
        target = tag_reference(repo, tag)
        with self._changing:
            stored = self.get(name)
            self._set_names(stored, add=[str(target)])
        self._publish("tag", stored.id, target.familiar())
        return str(target)

    def adopt(self, tag: str, names: Iterable[str]) -> StoredImage:
        """Take the image porter-image wrote under the plain tag `tag` of the store's layout
        (a pull, an import, a load): unpack its snapshots, name it `names` (full references;
        none: dangling) and drop `tag`. The unpack runs outside the store's lock (the
        snapshots serialise it per layer, and `tag` keeps the image's layers from collect)."""
        layout = self.layout()
        descriptor = layout.resolve(tag)
        image = self._load(layout, descriptor)
        try:
            self.snapshots.prepare(layout, image)
        except (SnapshotError, OSError) as exc:  # a bad layer, a full disk: nothing is kept
            index.edit_entries(layout, lambda entries: index.without(entries, {tag}))
            self.collect_later()
            raise DaemonError(f"cannot unpack the image: {exc}") from exc
        wanted = set(names)
        with self._changing:
            manifests = self._manifest_configs()

            def edit(entries: index.Entries) -> index.Entries:
                kept = index.without(entries, wanted | {tag})
                kept += [index.named(descriptor, name) for name in sorted(wanted)]
                return _keep_unnamed_images(entries, kept, manifests)

            index.edit_entries(layout, edit)
            return self._scan()[str(image.manifest.config.digest)]

    def import_rootfs(
        self,
        stream: BinaryIO,
        name: str | None,
        message: str = "",
        changes: Iterable[str] = (),
        source: str = "-",
    ) -> StoredImage:
        """`docker import`: the tar `stream` as a one-layer image; see `importing`."""
        return import_rootfs(self, stream, name, message, changes, source)

    def pull(
        self,
        reference: DockerReference,
        emit: Emit,
        platform: Platform | None = None,
        credentials: Credentials | None = None,
    ) -> StoredImage:
        """Copy `reference` in from its registry; progress to `emit`. See `registry`."""
        return registry.pull(self, reference, emit, platform, credentials)

    def push(
        self,
        references: Iterable[DockerReference],
        emit: Emit,
        credentials: Credentials | None = None,
    ) -> None:
        """Copy each of `references` (names of images here) out to its registry."""
        registry.push(self, references, emit, credentials)

    def save(self, names: Sequence[str], out: BinaryIO) -> None:
        """`docker save`: a docker-archive of the images `names` name, written to `out`."""
        archives.save(self, names, out)

    def load(self, stream: BinaryIO) -> list[str]:
        """`docker load`: every image of a docker-archive; dockerd's `Loaded image:` lines."""
        return archives.load(self, stream)

    def remove(self, name: str, force: bool = False, prune: bool = True) -> list[DeleteResult]:
        """`DELETE /images/{name}` by dockerd's rules; see `porterd.images.removal`."""
        return remove_image(self, name, force, prune)

    def prune(
        self, dangling_only: bool = True, keep: Callable[[StoredImage], bool] | None = None
    ) -> PruneResult:
        """Remove images no container uses (only unnamed ones when `dangling_only`), except
        those `keep` holds back (the API's until/label filters)."""
        return prune_images(self, dangling_only, keep or (lambda stored: False))

    def collect(self) -> list[Digest]:
        """Remove blobs and snapshots no image (and no container's lease) needs any more;
        returns the chain ids of the snapshots removed."""
        with self._changing:
            try:
                self.layout().gc()
            except LayoutError as exc:  # a broken image: keep every blob rather than guess
                log.error("image store: blobs not collected: %s", exc)
            keep = [c for stored in self._scan().values() for c in chain_ids(stored.diff_ids)]
            removed = self.snapshots.collect(keep)
            for chain_id in removed:
                self._unpacked_sizes.pop(chain_id, None)
            return removed

    def collect_later(self) -> None:
        """Collect in the background (after a failed pull or unpack: its blobs go, but the
        caller's answer does not wait for other writers to finish)."""

        def run() -> None:
            try:
                self.collect()
            except Exception:
                log.exception("image store: collect failed")

        threading.Thread(target=run, name="porterd-image-collect", daemon=True).start()

    def _set_names(
        self, stored: StoredImage, add: Iterable[str] = (), drop: Iterable[str] = ()
    ) -> None:
        """Point `add` at `stored` and remove the names `drop`; images left without a name stay
        as one unnamed entry (dangling), as dockerd keeps a retagged image."""
        added, dropped = set(add), set(drop)
        descriptor = self._descriptor(stored)
        manifests = self._manifest_configs()

        def edit(entries: index.Entries) -> index.Entries:
            kept = index.without(entries, added | dropped)
            kept += [index.named(descriptor, name) for name in sorted(added)]
            return _keep_unnamed_images(entries, kept, manifests)

        index.edit_entries(self.layout(), edit)

    def _descriptor(self, stored: StoredImage) -> Descriptor:
        for entry in self.layout().entries():
            if entry.descriptor.digest == stored.manifest_digest:
                return entry.descriptor
        raise NotFound(f"No such image: {stored.id}")

    # -- scanning ------------------------------------------------------------------------------

    def _scan(self) -> dict[str, StoredImage]:
        grouped: dict[str, tuple[Image, Digest, list[str]]] = {}
        for entry, image in self._readable():
            key = str(image.manifest.config.digest)
            names = grouped.setdefault(key, (image, entry.descriptor.digest, []))[2]
            if entry.tag is not None:
                names.append(entry.tag)
        return {
            key: self._stored(key, image, top, names)
            for key, (image, top, names) in grouped.items()
        }

    def _readable(self) -> Iterator[tuple[IndexEntry, Image]]:
        """index.json's entries with their images; one that cannot be read is logged and
        left out, so that one broken image does not hide the others."""
        layout = self.layout()
        try:
            entries = layout.entries()
        except PorterError as exc:
            raise DaemonError(f"image store {self.layout_path}: {exc}") from exc
        for entry in entries:
            try:
                yield entry, self._load(layout, entry.descriptor)
            except PorterError as exc:
                log.error("image store: cannot read %s: %s", entry.descriptor.digest, exc)

    def _load(self, layout: Layout, descriptor: Descriptor) -> Image:
        image = self._images.get(descriptor.digest)
        if image is None:
            if not descriptor.media_type:
                descriptor = self._manifest_descriptor(layout, descriptor.digest)
            image = load_descriptor(layout, descriptor)
            self._images[descriptor.digest] = image
        return image

    @staticmethod
    def _manifest_descriptor(layout: Layout, digest: Digest) -> Descriptor:
        for entry in layout.entries():
            if entry.descriptor.digest == digest:
                return entry.descriptor
        raise NotFound(f"No such image: {digest}")

    def _manifest_configs(self) -> dict[str, str]:
        """Manifest digest -> image id, for every manifest index.json names."""
        return {
            str(entry.descriptor.digest): str(image.manifest.config.digest)
            for entry, image in self._readable()
        }

    def _stored(self, image_id: str, image: Image, top: Digest, names: list[str]) -> StoredImage:
        """`top` is the digest index.json names it by (a manifest, or an index over it)."""
        sizes = []
        for layer, chain_id in zip(
            image.manifest.layers, chain_ids(image.config.diff_ids), strict=True
        ):
            unpacked = self._unpacked_size(chain_id)
            sizes.append(layer.size if unpacked is None else unpacked)
        return StoredImage(
            id=image_id,
            manifest_digest=top,
            names=tuple(sorted(names)),
            config=image.config_json,
            layer_digests=tuple(layer.digest for layer in image.manifest.layers),
            diff_ids=image.config.diff_ids,
            layer_sizes=tuple(sizes),
        )

    def _unpacked_size(self, chain_id: Digest) -> int | None:
        """The size of the snapshot of `chain_id`, None while it is not unpacked. A snapshot
        never changes, so its size is read once, not on every scan of the store."""
        size = self._unpacked_sizes.get(chain_id)
        if size is None:
            snapshot = self.snapshots.get(chain_id)
            if snapshot is None:
                return None
            size = self._unpacked_sizes[chain_id] = snapshot.size
        return size

    def _resolve(self, name: str, images: dict[str, StoredImage]) -> tuple[StoredImage, bool]:
        """(image, whether `name` named it by id) as dockerd's GetImage finds it."""
        reference = _reference(name)
        if reference is not None:
            full = str(reference)
            for stored in images.values():
                if full in stored.names:
                    return stored, is_id_prefix(stored.id, name)
        match = _HEX_PREFIX.fullmatch(name)
        if match:
            prefix = "sha256:" + match.group(1)
            found = [stored for key, stored in images.items() if key.startswith(prefix)]
            if len(found) == 1:
                return found[0], True
            if len(found) > 1:
                raise NotFound(f"No such image: {name} (the id prefix is ambiguous)")
        shown = reference.familiar() if reference is not None else name
        raise NotFound(f"No such image: {shown}")

    def _publish(self, action: str, actor: str, name: str | None = None) -> None:
        if self.events is not None:
            self.events.publish("image", action, actor, {"name": name or actor})


def is_id_prefix(image_id: str, name: str) -> bool:
    """dockerd's isImageIDPrefix: `name` is the id or a prefix of it (with or without sha256:)."""
    return image_id.startswith(name) or image_id.removeprefix("sha256:").startswith(name)


def tag_reference(repo: str, tag: str | None) -> DockerReference:
    """The reference `POST /images/{name}/tag?repo=&tag=` asks for; InvalidParameter if bad."""
    if not repo:
        raise InvalidParameter("repository name (repo) is required")
    try:
        reference = parse_docker_reference(repo, default_tag=not tag)
        if reference.digest is not None:
            raise InvalidParameter(f"refusing to create a tag with a digest reference: {repo}")
        return reference.with_tag(tag) if tag else reference
    except InvalidReferenceError as exc:
        raise InvalidParameter(str(exc)) from exc


def _reference(name: str) -> DockerReference | None:
    try:
        return parse_docker_reference(name)
    except InvalidReferenceError:
        return None


def _keep_unnamed_images(
    before: index.Entries, after: index.Entries, manifests: dict[str, str]
) -> index.Entries:
    """`after` (the named entries of an edit of `before`) with one unnamed entry for each image
    of `before` that no name reaches any more; an image with a name keeps no unnamed entry."""
    result = [e for e in after if index.entry_name(e) is not None]
    seen = {manifests.get(e["digest"]) for e in result}
    for raw in before:
        image_id = manifests.get(raw["digest"])
        if image_id not in seen:
            seen.add(image_id)
            result.append(index.named(Descriptor.from_json(raw), None))
    return result
