"""The interface every copy source and destination has."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO, Protocol

from porter_specs.digest import Digest
from porter_specs.models import Descriptor

from porter_image.distribution.manifests import RawManifest

BlobOpener = Callable[[], BinaryIO]
ByteCounter = Callable[[int], None]


class BlobOrigin(Protocol):
    """Where a registry source's blobs live (a destination on the same host can mount them)."""

    host: str
    repository: str


class ImageSource(Protocol):
    def top_manifest(self) -> RawManifest:
        """The manifest or index the source name points at."""

    def manifest(self, digest: Digest) -> RawManifest:
        """A manifest by digest (an index's child), verified against it."""

    def open_blob(self, descriptor: Descriptor) -> BinaryIO:
        """The blob's bytes, not yet verified (the destination verifies while storing)."""

    def referrers(self, digest: Digest) -> list[Descriptor]:
        """Manifests whose subject is `digest`."""

    def origin(self) -> BlobOrigin | None: ...

    def close(self) -> None: ...


class ImageDestination(Protocol):
    def has_blob(self, descriptor: Descriptor) -> bool: ...

    def mount_blob(self, descriptor: Descriptor, origin: BlobOrigin) -> bool:
        """Link a blob from another repository of the same registry; False when not possible."""

    def put_blob(self, descriptor: Descriptor, source: BlobOpener, progress: ByteCounter) -> None:
        """Store a blob read from `source()`, verified against `descriptor`."""

    def put_manifest(self, manifest: RawManifest) -> None:
        """Store a manifest by its digest (not yet visible by tag)."""

    def add_referrer(self, manifest: RawManifest) -> None:
        """Note that `manifest` (already put) was copied as a referrer of the image: a layout
        lists it in its index.json; a registry finds it by its subject itself."""

    def commit(self, manifest: RawManifest) -> None:
        """Make the image visible under the destination's name (its tag), last of all."""

    def close(self, failed: bool) -> None:
        """Release resources; after a failure, undo what a new destination created."""
