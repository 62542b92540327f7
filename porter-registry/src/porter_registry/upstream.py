"""The seam for a pull-through cache: where content missing locally may be fetched from.

The registry asks its `ContentSource` when a repository lacks a manifest or blob a client
pulls, and where a pulled tag points now (see pull_through.py for when). Whatever it returns
is verified and stored like a push (blobs by digest through an
upload session, manifests checked against the requested digest), then served. The default,
`NoUpstream`, has nothing. A proxy implements `ContentSource` over HTTP to another registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from porter_specs.digest import Digest


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest as an upstream served it."""

    content: bytes
    media_type: str


@runtime_checkable
class ContentSource(Protocol):
    """Content the registry may cache when a client pulls something it does not hold."""

    def fetch_manifest(self, name: str, reference: str) -> FetchedManifest | None:
        """The manifest `reference` (tag or digest) of `name`, or None when upstream lacks it."""
        ...

    def fetch_blob(self, name: str, digest: Digest) -> Iterable[bytes] | None:
        """The blob's bytes in chunks, or None when upstream lacks it."""
        ...

    def tag_digest(self, name: str, tag: str) -> Digest | None:
        """The digest `tag` of `name` points to upstream now, or None when it cannot say."""
        ...

    def blob_size(self, name: str, digest: Digest) -> int | None:
        """The blob's size upstream (without its bytes), or None when upstream lacks it."""
        ...


class NoUpstream:
    """No upstream: a miss is a miss."""

    def fetch_manifest(self, name: str, reference: str) -> FetchedManifest | None:
        return None

    def fetch_blob(self, name: str, digest: Digest) -> Iterable[bytes] | None:
        return None

    def tag_digest(self, name: str, tag: str) -> Digest | None:
        return None

    def blob_size(self, name: str, digest: Digest) -> int | None:
        return None
