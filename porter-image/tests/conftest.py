"""Fixtures of porter-image's tests; helpers live in image_test_support."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from image_test_support import PORTER_IMAGE, REPO, make_image
from porter_image.layout import Layout


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout.create(tmp_path / "layout")


@pytest.fixture
def image_layout(layout: Layout) -> Layout:
    """A layout holding one small image tagged `v1`."""
    make_image(layout, "v1")
    return layout


@pytest.fixture(scope="session")
def busybox_image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo base image, built once by the repository's script: (layout path, tag)."""
    layout = tmp_path_factory.mktemp("busybox") / "layout"
    env = {**os.environ, "PORTER_IMAGE": str(PORTER_IMAGE)}
    subprocess.run(
        ["bash", str(REPO / "scripts" / "make-busybox-image.sh"), f"{layout}:busybox"],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    return layout, "busybox"
