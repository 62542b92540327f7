"""The registry as a library: every operation the HTTP handlers expose, on a storage driver.

Handlers parse HTTP and call this; this enforces the rules (names, deletes enabled, read-only,
blob presence, digest checks), takes the push lock where content becomes reachable, and asks
the upstream `ContentSource` on a pull miss (through `PullThrough`, which publishes what it
fetches through the same `ContentStore`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from porter_specs import media_types
from porter_specs.canonical import load_json
from porter_specs.digest import Digest

from porter_registry.content import ContentStore, manifest_digest
from porter_registry.errors import RegistryError
from porter_registry.manifest_document import MAX_MANIFEST_BYTES, parse_manifest
from porter_registry.names import (
    check_name,
    is_digest_reference,
    is_valid_name,
    is_valid_tag,
    parse_digest,
)
from porter_registry.pull_through import PullThrough
from porter_registry.storage.driver import StorageDriver
from porter_registry.storage.locks import PushLock
from porter_registry.storage.manifests import StoredManifest
from porter_registry.storage.uploads import UploadStatus
from porter_registry.upstream import ContentSource, NoUpstream


@dataclass(frozen=True)
class RegistryPolicy:
    """What this registry allows."""

    delete_enabled: bool = True
    read_only: bool = False
    max_manifest_bytes: int = MAX_MANIFEST_BYTES


@dataclass(frozen=True)
class PutManifestResult:
    digest: Digest
    subject: Digest | None


class Registry:
    """Blobs, uploads, manifests, tags, referrers and the catalog of one data folder."""

    def __init__(
        self,
        driver: StorageDriver,
        lock: PushLock,
        policy: RegistryPolicy | None = None,
        upstream: ContentSource | None = None,
    ) -> None:
        self.driver = driver
        self.lock = lock
        self.policy = policy or RegistryPolicy()
        self.upstream: ContentSource = upstream or NoUpstream()
        self.content = ContentStore(driver, lock)
        self.blobs = self.content.blobs
        self.uploads = self.content.uploads
        self.repositories = self.content.repositories
        self.manifests = self.content.manifests
        self.pull_through = PullThrough(self.content, self.upstream)

    # -- rules -------------------------------------------------------------------------------

    def _writable(self) -> None:
        if self.policy.read_only:
            raise RegistryError("UNSUPPORTED", "this registry is read-only")

    def _deletable(self) -> None:
        self._writable()
        if not self.policy.delete_enabled:
            raise RegistryError("UNSUPPORTED", "deletes are disabled on this registry")

    # -- blobs -------------------------------------------------------------------------------

    def blob_size(self, name: str, digest: Digest) -> int:
        """The size of a blob `name` may serve; BLOB_UNKNOWN when it may not (after upstream)."""
        check_name(name)
        if self.repositories.has_blob(name, digest):
            size = self.blobs.size(digest)
            if size is not None:
                return size
        if self.pull_through.fill_blob(name, digest):
            size = self.blobs.size(digest)
            if size is not None:
                return size
        raise RegistryError("BLOB_UNKNOWN", {"digest": str(digest)})

    def head_blob(self, name: str, digest: Digest) -> int:
        """Like `blob_size`, but a blob only the upstream holds is not downloaded for it."""
        check_name(name)
        size = self.pull_through.head_blob(name, digest)
        if size is None:
            raise RegistryError("BLOB_UNKNOWN", {"digest": str(digest)})
        return size

    def open_blob(self, name: str, digest: Digest, offset: int = 0) -> BinaryIO:
        return self.blobs.open(digest, offset)

    def delete_blob(self, name: str, digest: Digest) -> None:
        check_name(name)
        self._deletable()
        if not self.repositories.unlink_blob(name, digest):
            raise RegistryError("BLOB_UNKNOWN", {"digest": str(digest)})

    def mount_blob(self, name: str, digest: Digest, source: str | None) -> bool:
        """Link a known blob into `name`; False when it cannot (the client then uploads).

        Without `source`, any stored blob may be mounted: the authorizer decides who may
        name a digest they cannot otherwise read.
        """
        check_name(name)
        self._writable()
        if source is not None and not (
            is_valid_name(source) and self.repositories.has_blob(source, digest)
        ):
            return False
        with self.lock.shared():
            if self.blobs.size(digest) is None:
                return False
            self.blobs.touch(digest)  # restart gc's grace period for the coming manifest
            self.repositories.link_blob(name, digest)
        return True

    # -- uploads -----------------------------------------------------------------------------

    def start_upload(self, name: str) -> UploadStatus:
        check_name(name)
        self._writable()
        return self.uploads.start(name)

    def upload_status(self, name: str, upload_id: str) -> UploadStatus:
        check_name(name)
        return self.uploads.status(name, upload_id)

    def append_upload(
        self,
        name: str,
        upload_id: str,
        chunks: Iterable[bytes],
        start: int | None = None,
        length: int | None = None,
    ) -> UploadStatus:
        check_name(name)
        self._writable()
        return self.uploads.append(name, upload_id, chunks, start, length)

    def finish_upload(
        self,
        name: str,
        upload_id: str,
        digest: Digest,
        chunks: Iterable[bytes] = (),
        start: int | None = None,
        length: int | None = None,
    ) -> None:
        """Append the last chunk, verify the whole against `digest`, publish it as a blob."""
        check_name(name)
        self._writable()
        with self.uploads.lock(name, upload_id):
            status = self.uploads.status(name, upload_id)
            status = self.uploads.append_locked(status, chunks, start, length)
            self.content.publish_upload(status, digest)

    def cancel_upload(self, name: str, upload_id: str) -> None:
        check_name(name)
        self.uploads.status(name, upload_id)
        self.uploads.remove(name, upload_id)

    # -- manifests ---------------------------------------------------------------------------

    def resolve(self, name: str, reference: str) -> Digest:
        if is_digest_reference(reference):
            return parse_digest(reference)
        if not is_valid_tag(reference):
            raise RegistryError("MANIFEST_UNKNOWN", {"name": name, "tag": reference})
        return self.manifests.resolve_tag(name, reference)

    def get_manifest(self, name: str, reference: str) -> StoredManifest:
        """A manifest by tag or digest; a tag is first brought in line with the upstream's."""
        check_name(name)
        by_digest = is_digest_reference(reference)
        if not by_digest and is_valid_tag(reference):
            self.pull_through.refresh_tag(name, reference)
        try:
            return self.manifests.get(name, self.resolve(name, reference))
        except RegistryError as exc:
            # A tag's miss was the upstream's too (refresh_tag asked it); a digest is asked now.
            if exc.error_code.code != "MANIFEST_UNKNOWN" or not by_digest:
                raise
            fetched = self.upstream.fetch_manifest(name, reference)
            if fetched is None:
                raise
        self.content.cache_manifest(name, reference, fetched.content, fetched.media_type)
        return self.manifests.get(name, self.resolve(name, reference))

    def put_manifest(
        self, name: str, reference: str, content: bytes, content_type: str | None
    ) -> PutManifestResult:
        """Check and store a manifest; its blobs and child manifests must already be here."""
        check_name(name)
        self._writable()
        if len(content) > self.policy.max_manifest_bytes:
            raise RegistryError(
                "MANIFEST_INVALID",
                f"manifest is {len(content)} bytes; the limit is {self.policy.max_manifest_bytes}",
                status=413,
            )
        if not is_digest_reference(reference) and not is_valid_tag(reference):
            raise RegistryError("MANIFEST_INVALID", f"invalid tag {reference!r}")
        document = parse_manifest(content, content_type)
        digest = manifest_digest(reference, content)
        with self.lock.shared():
            missing = [b for b in document.blobs if not self._has_blob_here(name, b)]
            missing += [c for c in document.children if not self.manifests.has_revision(name, c)]
            if missing:
                raise RegistryError("MANIFEST_BLOB_UNKNOWN", {"digest": str(missing[0])})
            self.content.store_manifest(name, reference, document, digest, content)
        return PutManifestResult(digest, document.subject)

    def _has_blob_here(self, name: str, digest: Digest) -> bool:
        return self.repositories.has_blob(name, digest) and self.blobs.size(digest) is not None

    def delete_manifest(self, name: str, reference: str) -> None:
        check_name(name)
        self._deletable()
        if not is_digest_reference(reference):
            if not is_valid_tag(reference):
                raise RegistryError("MANIFEST_UNKNOWN", {"name": name, "tag": reference})
            self.manifests.untag(name, reference)
            return
        digest = parse_digest(reference)
        stored = self.manifests.get(name, digest)
        self.manifests.delete_revision(name, digest, _subject_of(stored.content))

    # -- listings ----------------------------------------------------------------------------

    def tags(self, name: str) -> list[str]:
        check_name(name)
        if not self.repositories.exists(name):
            raise RegistryError("NAME_UNKNOWN", {"name": name})
        return sorted(self.manifests.tags(name))

    def catalog(self) -> list[str]:
        return self.repositories.names()

    def referrers(self, name: str, subject: Digest, artifact_type: str | None) -> list[dict]:
        """Descriptors of the manifests whose subject is `subject`, filtered by artifact type."""
        check_name(name)
        found = []
        for digest in sorted(self.manifests.referrers(name, subject)):
            try:
                stored = self.manifests.get(name, digest)
            except RegistryError:
                continue
            descriptor = _referrer_descriptor(stored)
            if artifact_type is None or descriptor.get("artifactType") == artifact_type:
                found.append(descriptor)
        return found


def _subject_of(content: bytes) -> Digest | None:
    document = load_json(content, "manifest")
    subject = document.get("subject") if isinstance(document, dict) else None
    if isinstance(subject, dict) and isinstance(subject.get("digest"), str):
        return Digest.parse(subject["digest"])
    return None


def _referrer_descriptor(stored: StoredManifest) -> dict[str, Any]:
    document = load_json(stored.content, "manifest")
    descriptor: dict[str, Any] = {
        "mediaType": stored.media_type,
        "digest": str(stored.digest),
        "size": len(stored.content),
    }
    artifact_type = document.get("artifactType")
    if artifact_type is None and stored.media_type not in media_types.INDEXES:
        artifact_type = (document.get("config") or {}).get("mediaType")
    if artifact_type:
        descriptor["artifactType"] = artifact_type
    if document.get("annotations"):
        descriptor["annotations"] = document["annotations"]
    return descriptor
