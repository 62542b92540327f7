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

Without an upstream (`NoUpstream`) nothing is asked and no lock is taken, so a plain registry
pays nothing for this.
"""

from __future__ import annotations

import logging

from porter_specs.digest import Digest

from porter_registry.content import ContentStore
from porter_registry.errors import RegistryError
from porter_registry.keyed_locks import KeyedLocks
from porter_registry.upstream import ContentSource, NoUpstream

log = logging.getLogger("porter_registry")


class PullThrough:
    """The upstream side of a registry: fills misses of `content` from `upstream` and keeps
    tags fresh, publishing what it fetches as a push would be."""

    def __init__(self, content: ContentStore, upstream: ContentSource) -> None:
        self.content = content
        self.upstream = upstream
        self._has_upstream = not isinstance(upstream, NoUpstream)
        self._blob_locks = KeyedLocks()
        self._tag_locks = KeyedLocks()

    def _cached_size(self, name: str, digest: Digest) -> int | None:
        content = self.content
        if content.repositories.has_blob(name, digest):
            return content.blobs.size(digest)
        return None

    def fill_blob(self, name: str, digest: Digest) -> bool:
        """Cache the blob for `name` from the upstream; False when the upstream lacks it."""
        content = self.content
        with self._blob_locks.held(str(digest)):
            if self._cached_size(name, digest) is not None:
                return True  # another client's fill finished while this one waited
            if content.blobs.size(digest) is not None and self._upstream_size(name, digest):
                with content.lock.shared():
                    content.blobs.touch(digest)
                    content.repositories.link_blob(name, digest)
                return True
            chunks = self.upstream.fetch_blob(name, digest)
            if chunks is None:
                return False
            status = content.uploads.start(name)
            try:
                with content.uploads.lock(name, status.upload_id):
                    status = content.uploads.append_locked(status, chunks)
                    content.publish_upload(status, digest)  # which ends the session
            except BaseException:
                content.uploads.remove(name, status.upload_id)
                raise
            return True

    def _upstream_size(self, name: str, digest: Digest) -> int | None:
        return self.upstream.blob_size(name, digest)

    def head_blob(self, name: str, digest: Digest) -> int | None:
        """The size of a blob `name` may serve, cached or upstream; nothing is downloaded."""
        size = self._cached_size(name, digest)
        return size if size is not None else self._upstream_size(name, digest)

    def _cached_tag(self, name: str, tag: str) -> Digest | None:
        try:
            return self.content.manifests.resolve_tag(name, tag)
        except RegistryError:
            return None

    def refresh_tag(self, name: str, tag: str) -> None:
        """Point the local `tag` where the upstream's points, caching that manifest."""
        if not self._has_upstream:
            return
        content = self.content
        with self._tag_locks.held(f"{name}:{tag}"):
            # the upstream first: when it cannot say (and always without one) the local tag
            # is not read here at all
            try:
                current = self.upstream.tag_digest(name, tag)
            except RegistryError as exc:
                if self._cached_tag(name, tag) is None:
                    raise
                log.warning("proxy: serving cached %s:%s: %s", name, tag, exc)
                return
            if current is None or current == self._cached_tag(name, tag):
                return
            if not content.manifests.has_revision(name, current):
                fetched = self.upstream.fetch_manifest(name, str(current))
                if fetched is None:
                    return
                content.cache_manifest(name, str(current), fetched.content, fetched.media_type)
            with content.lock.shared():
                content.manifests.tag(name, tag, current)
