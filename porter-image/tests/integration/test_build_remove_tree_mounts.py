"""Removing a step's folder never reaches into a filesystem still mounted below it (an
overlay a failed unmount left, say): what is mounted there is left whole."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT
from porter_image.build.remove_tree import remove_tree

pytestmark = [pytest.mark.integration, NEEDS_ROOT]


def test_a_filesystem_mounted_below_is_not_entered(tmp_path: Path) -> None:
    top = tmp_path / "step"
    mounted = top / "rootfs"
    mounted.mkdir(parents=True)
    (top / "upper-file").write_text("x")
    subprocess.run(["mount", "-t", "tmpfs", "porter-test", str(mounted)], check=True)
    try:
        (mounted / "kept").write_text("k")
        remove_tree(top)
        assert (mounted / "kept").read_text() == "k"
        assert not (top / "upper-file").exists()
    finally:
        subprocess.run(["umount", str(mounted)], check=True)
