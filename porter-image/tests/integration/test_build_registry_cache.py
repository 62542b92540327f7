"""--cache-to and --cache-from: a build's cache through a registry (porter-registry on
loopback) reaches a layout that never built the Dockerfile."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, build_ok, image_config, unpack, write_context
from image_test_support import PORTER_IMAGE
from porter_image.layout import Layout
from registry_support import host_of, running_registry

pytestmark = [pytest.mark.integration, NEEDS_ROOT]

DOCKERFILE = "FROM busybox\nCOPY f /f\nRUN cat /proc/sys/kernel/random/uuid > /stamp\n"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_registry(tmp_path_factory.mktemp("registry") / "data") as process:
        yield host_of(process.url)


def _layout(busybox_image: tuple[Path, str], folder: Path) -> Path:
    layout = folder / "layout"
    shutil.copytree(busybox_image[0], layout)
    return layout


def test_a_cache_exported_to_a_registry_is_reused_by_another_layout(
    busybox_image: tuple[Path, str], registry: str, tmp_path: Path
) -> None:
    context = write_context(tmp_path / "context", {"Dockerfile": DOCKERFILE, "f": "x"})
    first = _layout(busybox_image, tmp_path / "one")
    second = _layout(busybox_image, tmp_path / "two")
    ref = f"{registry}/cache/app:buildcache"
    built = build_ok(first, context, "--cache-to", ref)
    assert build_ok(second, context, "--cache-from", ref) == built
    assert image_config(second)["rootfs"] == image_config(first)["rootfs"]


def test_an_unreachable_cache_from_is_a_warning_and_the_build_runs(
    busybox_image: tuple[Path, str], registry: str, tmp_path: Path
) -> None:
    context = write_context(tmp_path / "context", {"Dockerfile": DOCKERFILE, "f": "x"})
    layout = _layout(busybox_image, tmp_path / "one")
    build_ok(layout, context, "--cache-from", f"{registry}/cache/none:missing")
    assert len(image_config(layout)["rootfs"]["diff_ids"]) == 3


def test_from_pulls_a_registry_image_into_the_layout(
    busybox_image: tuple[Path, str], registry: str, tmp_path: Path
) -> None:
    source = f"{busybox_image[0]}:{busybox_image[1]}"
    subprocess.run(
        [str(PORTER_IMAGE), "copy", source, f"docker://{registry}/library/busybox:1"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    dockerfile = f"FROM {registry}/library/busybox:1\nRUN echo pulled > /p\n"
    context = write_context(tmp_path / "context", {"Dockerfile": dockerfile})
    layout = tmp_path / "empty-layout"
    build_ok(layout, context)
    assert (unpack(layout, "out", tmp_path) / "p").read_text() == "pulled\n"
    assert Layout.open(layout).tags() == ["out"]
