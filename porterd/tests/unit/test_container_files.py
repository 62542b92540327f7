"""Paths of `docker cp` resolved inside a container's rootfs, never out of it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from porterd.containers.files import resolve_in_rootfs


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/:/bin/sh\n")
    os.symlink("/etc", root / "link")
    os.symlink("../../..", root / "up")
    return root


@pytest.mark.parametrize("path", ["/..", "/../..", "..", "/etc/../.."])
def test_dot_dot_stays_at_the_rootfs(rootfs: Path, path: str) -> None:
    assert resolve_in_rootfs(rootfs, path) == rootfs


def test_a_symlinked_parent_resolves_inside_the_rootfs(rootfs: Path) -> None:
    assert resolve_in_rootfs(rootfs, "/link/passwd") == rootfs / "etc" / "passwd"
    assert resolve_in_rootfs(rootfs, "/up/etc/passwd") == rootfs / "etc" / "passwd"


def test_the_last_part_is_kept_as_named(rootfs: Path) -> None:
    assert resolve_in_rootfs(rootfs, "/link") == rootfs / "link"
