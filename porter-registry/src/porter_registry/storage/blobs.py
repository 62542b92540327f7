"""The global blob store: every blob and manifest once, by digest, shared by all repositories."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import BinaryIO

from porter_specs.digest import Digest

from porter_registry.storage import paths
from porter_registry.storage.driver import PathNotFoundError, StorageDriver
from porter_registry.storage.walk import children


class BlobStore:
    """Content-addressed blobs; content only becomes visible here after it was verified."""

    def __init__(self, driver: StorageDriver) -> None:
        self.driver = driver

    def size(self, digest: Digest) -> int | None:
        """The blob's size, or None when it is not stored."""
        try:
            return self.driver.stat(paths.blob_data(digest)).size
        except PathNotFoundError:
            return None

    def open(self, digest: Digest, offset: int = 0) -> BinaryIO:
        return self.driver.reader(paths.blob_data(digest), offset)

    def read(self, digest: Digest) -> bytes:
        return self.driver.get_content(paths.blob_data(digest))

    def put_verified(self, digest: Digest, content: bytes) -> None:
        """Store small content whose digest the caller just computed (manifests)."""
        if self.size(digest) != len(content):
            self.driver.put_content(paths.blob_data(digest), content)
        else:
            self.touch(digest)

    def adopt(self, source: str, digest: Digest) -> None:
        """Move a verified, fsynced upload file into place (atomic rename)."""
        self.driver.move(source, paths.blob_data(digest))

    def touch(self, digest: Digest) -> None:
        """Restart gc's grace period for a blob a push is about to reference."""
        with contextlib.suppress(PathNotFoundError):
            self.driver.touch(paths.blob_data(digest))

    def mtime(self, digest: Digest) -> float | None:
        try:
            return self.driver.stat(paths.blob_data(digest)).mtime
        except PathNotFoundError:
            return None

    def delete(self, digest: Digest) -> None:
        with contextlib.suppress(PathNotFoundError):
            self.driver.delete(paths.blob_dir(digest))

    def all(self) -> Iterator[Digest]:
        """Every stored blob (walks blobs/<alg>/<xx>/<hex>)."""
        for algorithm in children(self.driver, paths.BLOBS):
            for prefix in children(self.driver, algorithm):
                for folder in children(self.driver, prefix):
                    alg, encoded = algorithm.rsplit("/", 1)[1], folder.rsplit("/", 1)[1]
                    with contextlib.suppress(ValueError):
                        yield paths.digest_from_algorithm_dir(alg, encoded)
