"""Repositories: which blobs each may serve (layer links), and the catalog of repositories."""

from __future__ import annotations

from collections.abc import Iterator

from porter_specs.digest import Digest

from porter_registry.storage import paths
from porter_registry.storage.driver import PathNotFoundError, StorageDriver
from porter_registry.storage.walk import children, digest_folders

_CONTENT_FOLDERS = ("_manifests", "_layers", "_uploads")


class RepositoryStore:
    """Layer links and repository listing."""

    def __init__(self, driver: StorageDriver) -> None:
        self.driver = driver

    def link_blob(self, name: str, digest: Digest) -> None:
        self.driver.put_content(paths.layer_link(name, digest), str(digest).encode())

    def has_blob(self, name: str, digest: Digest) -> bool:
        try:
            self.driver.stat(paths.layer_link(name, digest))
        except PathNotFoundError:
            return False
        return True

    def unlink_blob(self, name: str, digest: Digest) -> bool:
        try:
            self.driver.delete(paths.layer_dir(name, digest))
        except PathNotFoundError:
            return False
        return True

    def linked_blobs(self, name: str) -> Iterator[Digest]:
        return digest_folders(self.driver, paths.layers(name))

    def exists(self, name: str) -> bool:
        try:
            self.driver.stat(paths.repository(name))
        except PathNotFoundError:
            return False
        return True

    def names(self) -> list[str]:
        """Every repository with content, in lexical order (walks the folder tree)."""
        found: list[str] = []
        pending = [paths.REPOSITORIES]
        while pending:
            folder = pending.pop()
            subfolders = _child_folders(self.driver, folder)
            leaf_names = {c.rsplit("/", 1)[1] for c in subfolders}
            if folder != paths.REPOSITORIES and leaf_names & set(_CONTENT_FOLDERS):
                found.append(folder[len(paths.REPOSITORIES) + 1 :])
            pending.extend(c for c in subfolders if not c.rsplit("/", 1)[1].startswith("_"))
        return sorted(found)


def _child_folders(driver: StorageDriver, path: str) -> list[str]:
    return [c for c in children(driver, path) if driver.stat(c).is_dir]
