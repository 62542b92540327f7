"""Fixtures the integration tests of porterd share."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import busybox_rootfs_tar


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The busybox demo image's rootfs as a tar, built once for every module that imports it
    into a porterd."""
    return busybox_rootfs_tar(tmp_path_factory.mktemp("busybox"))
