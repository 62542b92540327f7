"""An OCI image layout as the source or the destination of a copy (`oci:`, `LAYOUT:TAG`)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import BinaryIO

from porter_specs.digest import Digest
from porter_specs.models import Descriptor

from porter_image.distribution.manifests import RawManifest, check_manifest
from porter_image.endpoints.base import BlobOpener, BlobOrigin, ByteCounter
from porter_image.errors import ImageRefError, LayoutError
from porter_image.layout import Layout
from porter_image.layout.store import MAX_DOCUMENT_SIZE
from porter_image.progress import CountingReader
from porter_image.transport import LayoutName


class _Counter:
    """The `advance` side of a Progress, reporting to a plain callback."""

    def __init__(self, progress: Callable[[int], None]) -> None:
        self.advance = progress


def counted(stream: BinaryIO, progress: Callable[[int], None]) -> BinaryIO:
    """`stream`, reporting each chunk read to `progress`."""
    return CountingReader(stream, _Counter(progress))  # type: ignore[arg-type, return-value]


def referrer_descriptor(manifest: RawManifest) -> Descriptor:
    """A referrer's descriptor as the referrers API gives it: its artifact type (the
    manifest's `artifactType`, else its config's media type) and its annotations."""
    document = manifest.document()
    config = document.get("config") if isinstance(document.get("config"), dict) else {}
    artifact_type = document.get("artifactType") or config.get("mediaType") or ""
    annotations = document.get("annotations") or {}
    return Descriptor(
        manifest.media_type,
        manifest.digest,
        len(manifest.data),
        annotations=dict(annotations) if isinstance(annotations, dict) else {},
        artifact_type=artifact_type if isinstance(artifact_type, str) else "",
    )


def layout_manifest(layout: Layout, descriptor: Descriptor) -> RawManifest:
    """A manifest of the layout, read, verified and checked like one from a registry."""
    data = layout.read_blob(descriptor)
    where = f"layout {layout.path} manifest {descriptor.digest}"
    return check_manifest(data, descriptor.media_type, where, descriptor.digest)


class LayoutSource:
    def __init__(self, name: LayoutName) -> None:
        self.name = name
        self.layout = Layout.open(name.path)

    def top_manifest(self) -> RawManifest:
        if self.name.digest is not None:
            return self.manifest(self.name.digest)
        if self.name.tag is not None:
            return layout_manifest(self.layout, self.layout.resolve(self.name.tag))
        entries = self.layout.entries()
        if len(entries) != 1:
            raise ImageRefError(
                str(self.name), f"name a tag: the layout holds {len(entries)} images"
            )
        return layout_manifest(self.layout, entries[0].descriptor)

    def manifest(self, digest: Digest) -> RawManifest:
        size = self._size(digest)
        if size > MAX_DOCUMENT_SIZE:
            raise LayoutError(self.layout.path, f"manifest {digest} is too large")
        with self.layout.open_blob(digest) as blob:
            data = blob.read()
        return check_manifest(data, "", f"layout {self.layout.path} manifest {digest}", digest)

    def _size(self, digest: Digest) -> int:
        with self.layout.open_blob(digest) as blob:
            return blob.seek(0, io.SEEK_END)

    def open_blob(self, descriptor: Descriptor) -> BinaryIO:
        return self.layout.open_blob(descriptor.digest)

    def referrers(self, digest: Digest) -> list[Descriptor]:
        """The manifests listed in index.json whose subject is `digest`, described as the
        referrers API describes them (artifact type, the manifest's annotations)."""
        found: dict[Digest, Descriptor] = {}
        for entry in self.layout.entries():
            if entry.descriptor.digest in found:
                continue
            with contextlib.suppress(LayoutError, ValueError):
                manifest = layout_manifest(self.layout, entry.descriptor)
                subject = manifest.document().get("subject") or {}
                if subject.get("digest") == str(digest):
                    found[manifest.digest] = referrer_descriptor(manifest)
        return list(found.values())

    def origin(self) -> BlobOrigin | None:
        return None

    def close(self) -> None:
        pass


class LayoutDestination:
    """Writes blobs and manifests as they come; the tag appears last, atomically, once the
    blobs' folder is fsynced (once for the copy, not once per blob).

    Without a tag (`oci:DIR`, or `oci:DIR@DIGEST`, which the copy must match) the manifest is
    listed in index.json without a name, as skopeo lists it: `oci:DIR` reads it back while it
    is the layout's only image.
    """

    def __init__(self, name: LayoutName) -> None:
        self.name = name
        self._writing = Layout.for_writing(name.path)
        self.layout = self._writing.__enter__()
        self._referrers: list[Descriptor] = []

    def has_blob(self, descriptor: Descriptor) -> bool:
        return self.layout.has_blob(descriptor.digest)

    def mount_blob(self, descriptor: Descriptor, origin: BlobOrigin) -> bool:
        return False

    def put_blob(self, descriptor: Descriptor, source: BlobOpener, progress: ByteCounter) -> None:
        # A Layout of its own per call: its writers' lock is one object per Layout and not
        # shared between threads (layers are stored in parallel).
        layout = Layout(self.layout.path)
        with source() as stream:
            layout.put_blob(
                counted(stream, progress), descriptor.digest, descriptor.size, sync_dir=False
            )

    def put_manifest(self, manifest: RawManifest) -> None:
        data = io.BytesIO(manifest.data)
        self.layout.put_blob(data, manifest.digest, len(manifest.data), sync_dir=False)

    def add_referrer(self, manifest: RawManifest) -> None:
        """List a copied referrer in index.json (untagged) on commit, so that the layout's
        referrers (found by their subject) include it."""
        self._referrers.append(referrer_descriptor(manifest))

    def commit(self, manifest: RawManifest) -> None:
        digest = self.name.digest
        if digest is not None and digest != manifest.digest:
            raise ImageRefError(str(self.name), f"the copied manifest is {manifest.digest}")
        self.layout.sync_blobs()
        if self.name.tag is None:
            self.layout.add_untagged([*self._referrers, manifest.descriptor])
            return
        if self._referrers:
            self.layout.add_untagged(self._referrers)
        self.layout.set_tag(self.name.tag, manifest.descriptor)

    def close(self, failed: bool) -> None:
        if failed:
            error = RuntimeError("copy failed")
            with contextlib.suppress(RuntimeError):
                self._writing.__exit__(RuntimeError, error, None)
        else:
            self._writing.__exit__(None, None, None)
