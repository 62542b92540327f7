"""Removing a step's folder a batch of names at a time, never following a symlink out."""

from __future__ import annotations

from pathlib import Path

import pytest
from porter_image.build import remove_tree as module
from porter_image.build.remove_tree import remove_tree


def test_a_tree_of_folders_files_and_symlinks_is_removed(tmp_path: Path) -> None:
    top = tmp_path / "top"
    (top / "a" / "b" / "c").mkdir(parents=True)
    (top / "a" / "b" / "c" / "f").write_text("x")
    (top / "a" / "g").write_text("y")
    (top / "link").symlink_to("a")
    (top / "empty").mkdir()
    remove_tree(top)
    assert not top.exists()


def test_a_symlink_to_a_folder_outside_is_removed_and_what_it_points_at_kept(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("k")
    top = tmp_path / "top"
    top.mkdir()
    (top / "out").symlink_to(outside)
    remove_tree(top)
    assert not top.exists() and (outside / "keep").read_text() == "k"


def test_a_folder_of_more_names_than_a_batch_is_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "BATCH", 3)
    top = tmp_path / "top"
    top.mkdir()
    for i in range(20):
        (top / f"f{i}").write_text("")
        (top / f"d{i}").mkdir()
        (top / f"d{i}" / "inner").write_text("")
    remove_tree(top)
    assert not top.exists()


def test_a_file_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    remove_tree(path)
    assert not path.exists()


def test_a_missing_path_is_no_error(tmp_path: Path) -> None:
    remove_tree(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()


def test_a_symlink_given_is_removed_not_followed(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "keep").write_text("k")
    (tmp_path / "link").symlink_to("target")
    remove_tree(tmp_path / "link")
    assert not (tmp_path / "link").is_symlink() and (tmp_path / "target" / "keep").exists()
