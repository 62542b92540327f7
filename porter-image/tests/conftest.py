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
def no_stored_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's own (empty) docker and podman credential files, not the machine's."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "auth.json"))


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
