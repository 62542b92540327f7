"""tree_digest: equal trees, equal digests; any difference that matters, another digest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from porter_image.layer import tree_digest, tree_listing


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "t"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f").write_bytes(b"content")
    (root / "l").symlink_to("d/f")
    return root


def test_digest_is_stable(tree: Path) -> None:
    assert tree_digest(tree) == tree_digest(tree)
    assert tree_digest(tree).startswith("sha256:")


@pytest.mark.parametrize(
    "change",
    [
        lambda t: (t / "d" / "f").write_bytes(b"other!!"),
        lambda t: os.chmod(t / "d" / "f", 0o600),
        lambda t: (t / "l").unlink() or (t / "l").symlink_to("elsewhere"),
        lambda t: (t / "new").mkdir(),
        lambda t: os.chown(t / "d", 1, 1) if os.geteuid() == 0 else pytest.skip("needs root"),
    ],
    ids=["content", "mode", "link target", "new entry", "owner"],
)
def test_changes_change_the_digest(tree: Path, change) -> None:
    before = tree_digest(tree)
    change(tree)
    assert tree_digest(tree) != before


def test_mtimes_count_only_when_asked(tree: Path) -> None:
    before, before_times = tree_digest(tree), tree_digest(tree, mtimes=True)
    os.utime(tree / "d" / "f", (5, 5))
    assert tree_digest(tree) == before
    assert tree_digest(tree, mtimes=True) != before_times


def test_root_attributes_are_left_out(tree: Path) -> None:
    before = tree_digest(tree)
    os.chmod(tree, 0o700)
    assert tree_digest(tree) == before


def test_listing_is_readable(tree: Path) -> None:
    assert [line.split("\t")[:2] for line in tree_listing(tree)] == [
        ["d", "dir"],
        ["d/f", "file"],
        ["l", "symlink"],
    ]
