"""Garbage collection: mark what manifests reference, sweep the rest.

Safety against concurrent pushes, in two parts:
- gc holds the push lock exclusively for its whole run. A manifest PUT checks its blobs and
  writes itself while holding the lock shared, and so does every blob upload or mount when it
  links a blob into a repository; so gc sees a push either completely or not at all.
- Blobs (and, with `delete_untagged`, manifests) modified less than `grace_seconds` ago are
  never swept. Linking a blob refreshes its mtime, so a blob a client just uploaded or mounted
  survives until the client has had `grace_seconds` to push the manifest that references it.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

from porter_specs.digest import Digest

from porter_registry.errors import RegistryError
from porter_registry.manifest_document import ManifestDocument, parse_manifest
from porter_registry.storage import paths
from porter_registry.storage.blobs import BlobStore
from porter_registry.storage.driver import PathNotFoundError, StorageDriver
from porter_registry.storage.locks import PushLock
from porter_registry.storage.manifests import ManifestStore
from porter_registry.storage.repositories import RepositoryStore


@dataclass(frozen=True)
class GcReport:
    """What gc removed (or, in a dry run, would remove)."""

    dry_run: bool
    manifests_deleted: tuple[tuple[str, str], ...] = ()
    blobs_deleted: tuple[str, ...] = ()
    bytes_freed: int = 0
    blobs_kept: int = 0
    uploads_purged: tuple[tuple[str, str], ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "manifests_deleted": [
                {"repository": r, "digest": d} for r, d in self.manifests_deleted
            ],
            "blobs_deleted": list(self.blobs_deleted),
            "bytes_freed": self.bytes_freed,
            "blobs_kept": self.blobs_kept,
            "uploads_purged": [{"repository": r, "upload": u} for r, u in self.uploads_purged],
        }


class GarbageCollector:
    def __init__(
        self,
        driver: StorageDriver,
        lock: PushLock,
        grace_seconds: float = 3600,
        upload_max_age_seconds: float = 7 * 24 * 3600,
    ) -> None:
        self.driver = driver
        self.lock = lock
        self.grace_seconds = grace_seconds
        self.upload_max_age_seconds = upload_max_age_seconds
        self.blobs = BlobStore(driver)
        self.repositories = RepositoryStore(driver)
        self.manifests = ManifestStore(driver, self.blobs)

    def run(
        self,
        delete_untagged: bool = False,
        dry_run: bool = False,
        lock_timeout: float | None = None,
    ) -> GcReport:
        with self.lock.exclusive(lock_timeout):
            now = time.time()
            marked: set[Digest] = set()
            doomed_manifests: list[tuple[str, Digest, Digest | None]] = []
            names = self.repositories.names()
            for name in names:
                documents = self._documents(name)
                live = self._live(name, documents, delete_untagged, now)
                for digest, document in documents.items():
                    if digest in live:
                        marked.add(digest)
                        marked.update(document.blobs)
                    else:
                        doomed_manifests.append((name, digest, document.subject))
            doomed_blobs = [d for d in self.blobs.all() if d not in marked and self._old(d, now)]
            freed = sum(self.blobs.size(d) or 0 for d in doomed_blobs)
            purged = self._stale_uploads(names, now)
            if not dry_run:
                self._sweep(names, doomed_manifests, doomed_blobs, purged)
            return GcReport(
                dry_run=dry_run,
                manifests_deleted=tuple((n, str(d)) for n, d, _ in doomed_manifests),
                blobs_deleted=tuple(str(d) for d in doomed_blobs),
                bytes_freed=freed,
                blobs_kept=len(marked),
                uploads_purged=tuple(purged),
            )

    def _documents(self, name: str) -> dict[Digest, ManifestDocument]:
        documents = {}
        for digest in self.manifests.revisions(name):
            with contextlib.suppress(RegistryError, PathNotFoundError):
                stored = self.manifests.get(name, digest)
                documents[digest] = parse_manifest(
                    stored.content, stored.media_type, check_schema=False
                )
        return documents

    def _old(self, digest: Digest, now: float) -> bool:
        mtime = self.blobs.mtime(digest)
        return mtime is not None and now - mtime >= self.grace_seconds

    def _live(
        self,
        name: str,
        documents: dict[Digest, ManifestDocument],
        delete_untagged: bool,
        now: float,
    ) -> set[Digest]:
        """Manifests to keep: all, or (untagged deletion) the tagged, the young, and everything
        they reach through index children or by being their referrers."""
        if not delete_untagged:
            return set(documents)
        live = {d for _, d in self.manifests.tag_targets(name)}
        for digest in documents:
            with contextlib.suppress(PathNotFoundError):
                info = self.driver.stat(paths.revision_link(name, digest))
                if now - info.mtime < self.grace_seconds:
                    live.add(digest)
        changed = True
        while changed:
            changed = False
            for digest, document in documents.items():
                reached = digest in live
                if not reached and document.subject is not None and document.subject in live:
                    live.add(digest)
                    changed = True
                if digest in live:
                    fresh = set(document.children) - live
                    if fresh:
                        live |= fresh
                        changed = True
        return live & set(documents)

    def _stale_uploads(self, names: list[str], now: float) -> list[tuple[str, str]]:
        stale = []
        for name in names:
            try:
                sessions = self.driver.list(paths.uploads(name))
            except PathNotFoundError:
                continue
            for session in sessions:
                upload_id = session.rsplit("/", 1)[1]
                if now - self._last_activity(name, upload_id) >= self.upload_max_age_seconds:
                    stale.append((name, upload_id))
        return stale

    def _last_activity(self, name: str, upload_id: str) -> float:
        """When a session last moved: its folder, start time or committed offset, latest."""
        times = [0.0]
        for path in (paths.upload_dir(name, upload_id), paths.upload_offset(name, upload_id)):
            with contextlib.suppress(PathNotFoundError):
                times.append(self.driver.stat(path).mtime)
        with contextlib.suppress(PathNotFoundError, ValueError):
            times.append(float(self.driver.get_content(paths.upload_started(name, upload_id))))
        return max(times)

    def _sweep(
        self,
        names: list[str],
        doomed_manifests: list[tuple[str, Digest, Digest | None]],
        doomed_blobs: list[Digest],
        purged: list[tuple[str, str]],
    ) -> None:
        for name, digest, subject in doomed_manifests:
            with contextlib.suppress(RegistryError, PathNotFoundError):
                self.manifests.delete_revision(name, digest, subject)
        doomed = set(doomed_blobs)
        for name in names:
            for digest in list(self.repositories.linked_blobs(name)):
                if digest in doomed:
                    self.repositories.unlink_blob(name, digest)
        for digest in doomed_blobs:
            self.blobs.delete(digest)
        for name, upload_id in purged:
            with contextlib.suppress(PathNotFoundError):
                self.driver.delete(paths.upload_dir(name, upload_id))
