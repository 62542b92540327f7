"""The demo base image built by scripts/make-busybox-image.sh, end to end."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from image_test_support import PORTER_IMAGE, build_busybox
from porter_image.image import load_image
from porter_image.layout import Layout, check_layout

pytestmark = pytest.mark.integration


def porter(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PORTER_IMAGE), *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_busybox_image_is_valid(busybox_image: tuple[Path, str]) -> None:
    layout, tag = busybox_image
    result = porter("validate", f"{layout}:{tag}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert check_layout(Layout.open(layout)) == []


def test_busybox_image_runs_sh_with_a_path(busybox_image: tuple[Path, str]) -> None:
    image = load_image(Layout.open(busybox_image[0]), busybox_image[1])
    assert image.config.config.cmd == ("sh",)
    assert any(e.startswith("PATH=") for e in image.config.config.env)


def test_busybox_image_build_is_reproducible(
    busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout = tmp_path / "again"
    build_busybox(f"{layout}:busybox")
    first = Layout.open(busybox_image[0]).resolve("busybox").digest
    assert Layout.open(layout).resolve("busybox").digest == first


def test_busybox_unpacks_with_applet_links(busybox_image: tuple[Path, str], tmp_path: Path) -> None:
    layout, tag = busybox_image
    result = porter("unpack", f"{layout}:{tag}", tmp_path / "b")
    assert result.returncode == 0, result.stderr
    rootfs = tmp_path / "b" / "rootfs"
    assert (rootfs / "bin" / "busybox").is_file()
    assert os.readlink(rootfs / "bin" / "sh") == "../bin/busybox"
    assert (rootfs / "etc" / "passwd").read_text().startswith("root:x:0:0:")
    assert (rootfs / "tmp").stat().st_mode & 0o7777 == 0o1777


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_unpacked_busybox_runs_a_shell(busybox_image: tuple[Path, str], tmp_path: Path) -> None:
    layout, tag = busybox_image
    assert porter("unpack", f"{layout}:{tag}", tmp_path / "b").returncode == 0
    result = subprocess.run(
        ["chroot", str(tmp_path / "b" / "rootfs"), "/bin/sh", "-c", "echo hello; ls /bin | wc -l"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and result.stdout.startswith("hello\n")
