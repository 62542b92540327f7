"""Manifests of a repository: revisions by digest, tags, and the referrers of each subject."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from porter_specs.digest import Digest

from porter_registry.errors import RegistryError
from porter_registry.storage import paths
from porter_registry.storage.blobs import BlobStore
from porter_registry.storage.driver import PathNotFoundError, StorageDriver
from porter_registry.storage.walk import digest_folders

_CACHE_SIZE = 2048


@dataclass(frozen=True)
class StoredManifest:
    """A manifest as stored: the exact pushed bytes and the media type to serve them with."""

    digest: Digest
    media_type: str
    content: bytes


class _ContentCache:
    """Recently served manifests by (repository, digest); content-addressed, so never stale."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, Digest], StoredManifest] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, Digest]) -> StoredManifest | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, Digest], manifest: StoredManifest) -> None:
        with self._lock:
            self._entries[key] = manifest
            while len(self._entries) > _CACHE_SIZE:
                self._entries.popitem(last=False)


class ManifestStore:
    """Manifest revisions, tags and referrer links of every repository."""

    def __init__(self, driver: StorageDriver, blobs: BlobStore) -> None:
        self.driver = driver
        self.blobs = blobs
        self._cache = _ContentCache()

    def resolve_tag(self, name: str, tag: str) -> Digest:
        try:
            link = self.driver.get_content(paths.tag_link(name, tag))
        except PathNotFoundError:
            raise RegistryError("MANIFEST_UNKNOWN", {"name": name, "tag": tag}) from None
        return Digest.parse(link.decode())

    def has_revision(self, name: str, digest: Digest) -> bool:
        try:
            self.driver.stat(paths.revision_link(name, digest))
        except PathNotFoundError:
            return False
        return True

    def get(self, name: str, digest: Digest) -> StoredManifest:
        """The manifest `digest` of `name`, refusing with MANIFEST_UNKNOWN when it is not there."""
        if not self.has_revision(name, digest):
            raise RegistryError("MANIFEST_UNKNOWN", {"name": name, "digest": str(digest)})
        cached = self._cache.get((name, digest))
        if cached is not None:
            return cached
        try:
            content = self.blobs.read(digest)
            media_type = self.driver.get_content(paths.revision_media_type(name, digest)).decode()
        except PathNotFoundError:
            raise RegistryError("MANIFEST_UNKNOWN", {"name": name, "digest": str(digest)}) from None
        manifest = StoredManifest(digest, media_type, content)
        self._cache.put((name, digest), manifest)
        return manifest

    def put(self, name: str, manifest: StoredManifest, subject: Digest | None) -> None:
        """Store the bytes, then the media type, then the links: each step atomic, in order."""
        digest = manifest.digest
        self.blobs.put_verified(digest, manifest.content)
        self.driver.put_content(
            paths.revision_media_type(name, digest), manifest.media_type.encode()
        )
        if subject is not None:
            self.driver.put_content(
                paths.referrer_link(name, subject, digest), str(digest).encode()
            )
        self.driver.put_content(paths.revision_link(name, digest), str(digest).encode())
        self._cache.put((name, digest), manifest)

    def tag(self, name: str, tag: str, digest: Digest) -> None:
        self.driver.put_content(paths.tag_link(name, tag), str(digest).encode())

    def untag(self, name: str, tag: str) -> None:
        try:
            self.driver.delete(paths.tag_dir(name, tag))
        except PathNotFoundError:
            raise RegistryError("MANIFEST_UNKNOWN", {"name": name, "tag": tag}) from None

    def delete_revision(self, name: str, digest: Digest, subject: Digest | None) -> None:
        """Remove a revision, its referrer link and every tag pointing at it."""
        if not self.has_revision(name, digest):
            raise RegistryError("MANIFEST_UNKNOWN", {"name": name, "digest": str(digest)})
        for tag, target in self.tag_targets(name):
            if target == digest:
                with contextlib.suppress(PathNotFoundError):
                    self.driver.delete(paths.tag_dir(name, tag))
        if subject is not None:
            with contextlib.suppress(PathNotFoundError):
                self.driver.delete(paths.referrer_link(name, subject, digest).rsplit("/", 1)[0])
        self.driver.delete(paths.revision_dir(name, digest))

    def tags(self, name: str) -> list[str]:
        try:
            return [t.rsplit("/", 1)[1] for t in self.driver.list(paths.tags(name))]
        except PathNotFoundError:
            return []

    def tag_targets(self, name: str) -> Iterator[tuple[str, Digest]]:
        for tag in self.tags(name):
            with contextlib.suppress(RegistryError, ValueError):
                yield tag, self.resolve_tag(name, tag)

    def revisions(self, name: str) -> Iterator[Digest]:
        yield from digest_folders(self.driver, paths.revisions(name))

    def referrers(self, name: str, subject: Digest) -> list[Digest]:
        """Manifests of `name` whose subject is `subject` and that still exist."""
        found = digest_folders(self.driver, paths.referrers(name, subject))
        return [d for d in found if self.has_revision(name, d)]
