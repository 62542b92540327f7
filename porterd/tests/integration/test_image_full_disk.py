"""A full disk under the image store: one clear error, and nothing half-stored (root only:
the data root is a small tmpfs the test mounts)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from image_support import add_image, new_store
from porter_image.docker_archive import SavedImage, write_docker_archive
from porter_image.layer.testing import archive, file
from porter_image.layout import Layout
from porterd.errors import DaemonError
from porterd.images import ImageStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root"),
]
BIG = os.urandom(3 << 20)  # random: gzip cannot make it fit


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs at tmp_path/disk, unmounted at the end."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=False)


def _blobs(store: ImageStore) -> list[object]:
    return list(Layout.open(store.layout_path).blob_digests())


def test_an_import_that_fills_the_disk_fails_clearly_and_keeps_nothing(small_disk: Path) -> None:
    store = new_store(small_disk)
    with pytest.raises(DaemonError, match="No space left on device"):
        store.import_rootfs(io.BytesIO(archive(file("big", BIG))), "docker.io/library/big:latest")
    assert store.images() == [] and _blobs(store) == []


def test_a_load_that_fills_the_disk_fails_clearly_and_keeps_nothing(
    small_disk: Path, tmp_path: Path
) -> None:
    source = new_store(tmp_path / "source")
    add_image(source, ["docker.io/library/big:latest"], {"big": BIG})
    saved = io.BytesIO()
    write_docker_archive(
        source.layout(), [SavedImage(source.image(source.get("big")), ("big:latest",))], saved
    )
    store = new_store(small_disk)
    with pytest.raises(DaemonError, match="No space left on device"):
        store.load(io.BytesIO(saved.getvalue()))
    store.collect()
    assert store.images() == [] and _blobs(store) == []
    assert os.listdir(store.root / "tmp") == []
