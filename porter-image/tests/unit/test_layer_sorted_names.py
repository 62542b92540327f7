"""A folder's names in byte order, a huge folder merged from sorted runs spilled to disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from porter_image.layer import sorted_names as module
from porter_image.layer.sorted_names import sorted_names

ODD_NAMES = ["b", "a", "B", "line\nbreak", "é", os.fsdecode(b"\xff-not-utf8"), "a.b", "a-b"]


def make_names(folder: Path, names: list[str]) -> None:
    for name in names:
        (folder / name).write_bytes(b"")


def byte_order(names: list[str]) -> list[str]:
    return sorted(names, key=os.fsencode)


def test_names_come_in_the_order_of_their_bytes(tmp_path: Path) -> None:
    make_names(tmp_path, ODD_NAMES)
    assert list(sorted_names(tmp_path)) == byte_order(ODD_NAMES)


def test_a_folder_larger_than_a_run_is_merged_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "CHUNK", 7)
    names = ODD_NAMES + [f"n{i * 7919 % 1000:04d}-{i}" for i in range(60)]
    make_names(tmp_path, names)
    assert list(sorted_names(tmp_path)) == byte_order(names)


def test_a_folder_of_exactly_one_run_has_its_names_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "CHUNK", 4)
    names = ["d", "c", "b", "a"]
    make_names(tmp_path, names)
    assert list(sorted_names(tmp_path)) == ["a", "b", "c", "d"]


def test_an_empty_folder_has_no_names(tmp_path: Path) -> None:
    assert list(sorted_names(tmp_path)) == []


def test_a_missing_folder_is_an_os_error_at_once(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sorted_names(tmp_path / "missing")
