"""Fixtures of porter-image's tests; helpers live in image_test_support."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from image_host_features import missing_busybox, skip_unless
from image_test_support import build_busybox, make_image
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
    skip_unless(missing_busybox())
    layout = tmp_path_factory.mktemp("busybox") / "layout"
    build_busybox(f"{layout}:busybox")
    return layout, "busybox"
