"""Walking the storage tree: listings that treat a missing folder as empty, and the
`<root>/<alg>/<hex>/` folders by which layers, revisions and referrers are stored."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from porter_specs.digest import Digest

from porter_registry.storage import paths
from porter_registry.storage.driver import PathNotFoundError, StorageDriver


def children(driver: StorageDriver, path: str) -> list[str]:
    """The entries of a folder, none when it does not exist."""
    try:
        return driver.list(path)
    except PathNotFoundError:
        return []


def digest_folders(driver: StorageDriver, root: str) -> Iterator[Digest]:
    """Digests stored as `<root>/<alg>/<hex>/` folders; entries that name none are skipped."""
    for algorithm in children(driver, root):
        for folder in children(driver, algorithm):
            with contextlib.suppress(ValueError):
                yield paths.digest_from_algorithm_dir(
                    algorithm.rsplit("/", 1)[1], folder.rsplit("/", 1)[1]
                )
