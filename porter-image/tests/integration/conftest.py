"""Fixtures of the builder's integration tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def base(busybox_image: tuple[Path, str], tmp_path: Path) -> Path:
    """A layout of this test's own holding the busybox image tagged `busybox`."""
    layout = tmp_path / "layout"
    shutil.copytree(busybox_image[0], layout)
    return layout


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    """An empty folder for the build context."""
    folder = tmp_path / "context"
    folder.mkdir()
    return folder
