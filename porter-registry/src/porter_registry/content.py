"""The stores of one data folder, and the two ways content becomes reachable in them.

A verified upload becomes a blob linked into its repository; a checked manifest becomes a
revision of its repository (and, pushed by tag, the tag's target). Both happen under the shared
push lock, so garbage collection never sees content half-linked. The registry's push handlers
and the pull-through cache's fills both publish through here.
"""

from __future__ import annotations

from porter_specs.digest import Digest, from_bytes

from porter_registry.errors import RegistryError
from porter_registry.manifest_document import ManifestDocument, parse_manifest
from porter_registry.names import is_digest_reference, parse_digest
from porter_registry.storage.blobs import BlobStore
from porter_registry.storage.driver import StorageDriver
from porter_registry.storage.locks import PushLock
from porter_registry.storage.manifests import ManifestStore, StoredManifest
from porter_registry.storage.repositories import RepositoryStore
from porter_registry.storage.uploads import UploadStatus, UploadStore


def manifest_digest(reference: str, content: bytes) -> Digest:
    """The digest of `content`; pushed by digest, it must be the digest `reference` names."""
    if not is_digest_reference(reference):
        return from_bytes(content)
    expected = parse_digest(reference)
    actual = from_bytes(content, expected.algorithm)
    if actual != expected:
        raise RegistryError("DIGEST_INVALID", f"manifest hashes to {actual}, not {expected}")
    return actual


class ContentStore:
    """Blobs, upload sessions, repositories and manifests over one driver and push lock."""

    def __init__(self, driver: StorageDriver, lock: PushLock) -> None:
        self.driver = driver
        self.lock = lock
        self.blobs = BlobStore(driver)
        self.uploads = UploadStore(driver)
        self.repositories = RepositoryStore(driver)
        self.manifests = ManifestStore(driver, self.blobs)

    def publish_upload(self, status: UploadStatus, digest: Digest) -> None:
        """Verify an upload session's bytes against `digest`, publish them as a blob of its
        repository, and end the session; the caller holds the session's lock."""
        data = self.uploads.verify(status, digest)
        with self.lock.shared():
            if self.blobs.size(digest) == status.offset:
                self.blobs.touch(digest)  # same content already stored by another push
            else:
                self.blobs.adopt(data, digest)
            self.repositories.link_blob(status.name, digest)
        self.uploads.remove(status.name, status.upload_id)

    def store_manifest(
        self,
        name: str,
        reference: str,
        document: ManifestDocument,
        digest: Digest,
        content: bytes,
    ) -> None:
        """Write a checked manifest and, when `reference` is a tag, point the tag at it;
        the caller holds the shared push lock."""
        stored = StoredManifest(digest, document.media_type, content)
        self.manifests.put(name, stored, document.subject)
        if not is_digest_reference(reference):
            self.manifests.tag(name, reference, digest)

    def cache_manifest(self, name: str, reference: str, content: bytes, media_type: str) -> None:
        """Store a manifest from an upstream (checked against `reference` when a digest)."""
        document = parse_manifest(content, media_type)
        digest = manifest_digest(reference, content)
        with self.lock.shared():
            self.store_manifest(name, reference, document, digest, content)
