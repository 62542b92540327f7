"""A `ContentSource` fake for pull-through tests: one repository's tags, manifests and blobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from falcon import testing
from porter_registry.app import create_app
from porter_registry.upstream import FetchedManifest
from porter_specs.digest import Digest
from push_support import EMPTY_CONFIG, digest_of, manifest_bytes
from tests_common import make_registry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class FakeUpstream:
    """An upstream holding one image tagged v1; records what it was asked, can go down."""

    def __init__(self) -> None:
        self.manifest = manifest_bytes(EMPTY_CONFIG, (b"upstream layer",))
        self.manifests = {digest_of(self.manifest): self.manifest}
        self.tags = {"v1": digest_of(self.manifest)}
        self.blobs = {
            digest_of(EMPTY_CONFIG): EMPTY_CONFIG,
            digest_of(b"upstream layer"): b"upstream layer",
        }
        self.requests: list[str] = []
        self.reachable = True
        self.blob_delay = 0.0
        self._lock = threading.Lock()

    def _ask(self, request: str) -> bool:
        with self._lock:
            self.requests.append(request)
        return self.reachable

    def retag(self, tag: str, manifest: bytes) -> None:
        self.manifests[digest_of(manifest)] = manifest
        self.tags[tag] = digest_of(manifest)

    def fetch_manifest(self, name: str, reference: str) -> FetchedManifest | None:
        if not self._ask(f"manifest {reference}"):
            return None
        content = self.manifests.get(self.tags.get(reference, reference))
        return None if content is None else FetchedManifest(content, OCI_MANIFEST)

    def fetch_blob(self, name: str, digest: Digest) -> Iterable[bytes] | None:
        if not self._ask(f"blob {digest}"):
            return None
        data = self.blobs.get(str(digest))
        return None if data is None else self._slowly(data)

    def _slowly(self, data: bytes) -> Iterator[bytes]:
        time.sleep(self.blob_delay)
        yield data

    def tag_digest(self, name: str, tag: str) -> Digest | None:
        if not self._ask(f"tag {tag}"):
            return None
        digest = self.tags.get(tag)
        return None if digest is None else Digest.parse(digest)

    def blob_size(self, name: str, digest: Digest) -> int | None:
        if not self._ask(f"head {digest}"):
            return None
        data = self.blobs.get(str(digest))
        return None if data is None else len(data)


def proxy_client(tmp_path: Path, upstream: FakeUpstream) -> testing.TestClient:
    """A read-only registry in `tmp_path` caching `upstream`, behind falcon's test client."""
    registry = make_registry(tmp_path / "cache", upstream, read_only=True)
    return testing.TestClient(create_app(registry))
