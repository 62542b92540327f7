"""Helpers of the image store's tests (imported by name; conftest puts this folder on sys.path):
images made by porter_image in the store's own layout, and a usage the tests can set."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from porter_image.layer.testing import archive, file
from porter_image.snapshots.testing import layered_image
from porterd.images import ContainerUse, ImageStore, StoredImage


def new_store(root: Path) -> ImageStore:
    """An empty store under `root` whose containers are a `Usage` (`store.usage.users`)."""
    return ImageStore(data_root=root / "data", usage=Usage())


def add_image(
    store: ImageStore,
    names: Sequence[str],
    files: dict[str, bytes] | None = None,
    config: dict[str, Any] | None = None,
    created: int = 0,
) -> StoredImage:
    """A one-layer image of `files` in `store`, named by the full references `names`."""
    layer = archive(*(file(n, data) for n, data in (files or {"hello": b"hi\n"}).items()))
    layered_image(store.layout(), "incoming", [layer], config, created)
    return store.adopt("incoming", names)


class Usage:
    """Containers the tests say use an image: image id -> its users."""

    def __init__(self) -> None:
        self.users: dict[str, list[ContainerUse]] = {}

    def containers_using(self, image_id: str) -> Sequence[ContainerUse]:
        return self.users.get(image_id, [])


def users(store: ImageStore) -> dict[str, list[ContainerUse]]:
    """The containers the test says use each image."""
    if not isinstance(store.usage, Usage):
        raise TypeError("the store was not made by new_store")
    return store.usage.users
