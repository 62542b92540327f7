"""What a pull-through cache asks its upstream, and when: CNCF distribution's proxy rules.

- A manifest pulled by tag (GET or HEAD) is checked against the upstream each time: a HEAD
  there gives the tag's digest (`Docker-Content-Digest`); when it differs from the cached tag,
  the manifest is fetched by that digest, verified, cached, and the local tag moved. When the
  upstream cannot say (unreachable, an error, no such tag), the cached tag is served.
- Content by digest is immutable: once cached it is served without asking the upstream.
- A HEAD of an uncached blob is answered from the upstream's HEAD; nothing is downloaded.
- A blob is fetched once however many clients miss it at the same moment: the first holds a
  per-digest lock while it downloads and stores; the others wait, then find it cached.
- A blob cached through another repository is linked into this one once the upstream confirms
  (by HEAD) that this repository has it, without downloading it again.

Without an upstream (`NoUpstream`) every question is answered "unknown" at once, so a plain
registry pays nothing for this.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from porter_specs.digest import Digest

from porter_registry.errors import RegistryError
from porter_registry.keyed_locks import KeyedLocks

if TYPE_CHECKING:
    from porter_registry.registry import Registry

log = logging.getLogger("porter_registry")


class PullThrough:
    """The upstream side of a `Registry`: fills misses and keeps tags fresh."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._blob_locks = KeyedLocks()
        self._tag_locks = KeyedLocks()

    def _cached_size(self, name: str, digest: Digest) -> int | None:
        registry = self.registry
        if registry.repositories.has_blob(name, digest):
            return registry.blobs.size(digest)
        return None

    def fill_blob(self, name: str, digest: Digest) -> bool:
        """Cache the blob for `name` from the upstream; False when the upstream lacks it."""
        registry = self.registry
        with self._blob_locks.held(str(digest)):
            if self._cached_size(name, digest) is not None:
                return True  # another client's fill finished while this one waited
            if registry.blobs.size(digest) is not None and self._upstream_size(name, digest):
                with registry.lock.shared():
                    registry.blobs.touch(digest)
                    registry.repositories.link_blob(name, digest)
                return True
            chunks = registry.upstream.fetch_blob(name, digest)
            if chunks is None:
                return False
            status = registry.uploads.start(name)
            try:
                registry.finish_upload(name, status.upload_id, digest, chunks, allow_read_only=True)
            finally:
                registry.uploads.remove(name, status.upload_id)
            return True

    def _upstream_size(self, name: str, digest: Digest) -> int | None:
        return self.registry.upstream.blob_size(name, digest)

    def head_blob(self, name: str, digest: Digest) -> int | None:
        """The size of a blob `name` may serve, cached or upstream; nothing is downloaded."""
        size = self._cached_size(name, digest)
        return size if size is not None else self._upstream_size(name, digest)

    def _cached_tag(self, name: str, tag: str) -> Digest | None:
        try:
            return self.registry.manifests.resolve_tag(name, tag)
        except RegistryError:
            return None

    def refresh_tag(self, name: str, tag: str) -> None:
        """Point the local `tag` where the upstream's points, caching that manifest."""
        registry = self.registry
        with self._tag_locks.held(f"{name}:{tag}"):
            # the upstream first: when it cannot say (and always without one) the local tag
            # is not read here at all
            try:
                current = registry.upstream.tag_digest(name, tag)
            except RegistryError as exc:
                if self._cached_tag(name, tag) is None:
                    raise
                log.warning("proxy: serving cached %s:%s: %s", name, tag, exc)
                return
            if current is None or current == self._cached_tag(name, tag):
                return
            if not registry.manifests.has_revision(name, current):
                fetched = registry.upstream.fetch_manifest(name, str(current))
                if fetched is None:
                    return
                registry.cache_manifest(name, str(current), fetched.content, fetched.media_type)
            with registry.lock.shared():
                registry.manifests.tag(name, tag, current)
