"""porterd.disk_usage.tree_size: the bytes below a folder as dockerd's directory.Size counts
them (SizeRw, a volume's size, a build cache entry)."""

from __future__ import annotations

import os
from pathlib import Path

from porterd.disk_usage import tree_size


def test_the_files_below_a_folder_are_summed_and_folders_count_nothing(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "b").write_bytes(b"y" * 5)
    assert tree_size(tmp_path) == 15


def test_a_hard_linked_file_counts_once(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 10)
    os.link(tmp_path / "a", tmp_path / "b")
    assert tree_size(tmp_path) == 10


def test_a_symbolic_link_counts_its_own_size_not_its_target(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "big").write_bytes(b"x" * 1000)
    inside = tmp_path / "inside"
    inside.mkdir()
    (inside / "to-folder").symlink_to(tmp_path / "folder")
    assert tree_size(inside) == len(str(tmp_path / "folder"))


def test_a_file_is_its_own_size_and_a_missing_path_is_empty(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 7)
    assert tree_size(tmp_path / "a") == 7
    assert tree_size(tmp_path / "missing") == 0
