"""write_diff_layer: base + diff == modified, with whiteouts for what was deleted."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from porter_image.layer import (
    LayerError,
    TarOptions,
    apply_layer,
    tree_digest,
    write_diff_layer,
    write_layer,
)


def _base(root: Path) -> Path:
    (root / "etc" / "conf.d").mkdir(parents=True)
    (root / "etc" / "passwd").write_bytes(b"root:x:0:0\n")
    (root / "etc" / "conf.d" / "a.conf").write_bytes(b"a=1\n")
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_bytes(b"#!/bin/sh\n")
    (root / "bin" / "alias").symlink_to("tool")
    (root / "var" / "cache" / "deep").mkdir(parents=True)
    (root / "var" / "cache" / "deep" / "blob").write_bytes(b"x" * 1000)
    (root / "data").write_bytes(b"file that becomes a directory")
    return root


def _unpack_copy(src: Path, dest: Path) -> None:
    """dest as an unpack of src would be (whole-second times), via a real layer."""
    out = io.BytesIO()
    result = write_layer(src, out, "none")
    out.seek(0)
    apply_layer(out, result.media_type, dest)


def _round_trip(tmp_path: Path, change) -> tuple[Path, Path, list[str]]:
    base = tmp_path / "base"
    _unpack_copy(_base(tmp_path / "orig"), base)
    modified = tmp_path / "modified"
    shutil.copytree(base, modified, symlinks=True)
    change(modified)
    out = io.BytesIO()
    result = write_diff_layer(base, modified, out, "gzip")
    out.seek(0)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as archive:
        names = archive.getnames()
    out.seek(0)
    apply_layer(out, result.media_type, base)
    return base, modified, names


def test_unchanged_tree_gives_an_empty_diff(tmp_path: Path) -> None:
    _base_tree, _modified, names = _round_trip(tmp_path, lambda root: None)
    assert names == []


def test_added_and_modified_files_are_written_with_their_parents(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        (root / "etc" / "conf.d" / "b.conf").write_bytes(b"b=2\n")
        (root / "etc" / "passwd").write_bytes(b"root:x:0:0\nuser:x:1000:1000\n")

    base, modified, names = _round_trip(tmp_path, change)
    assert names == ["etc", "etc/conf.d", "etc/conf.d/b.conf", "etc/passwd"]
    assert tree_digest(base, mtimes=True) == tree_digest(modified, mtimes=True)


def test_deletions_become_whiteouts(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        (root / "bin" / "alias").unlink()
        shutil.rmtree(root / "var" / "cache")

    base, modified, names = _round_trip(tmp_path, change)
    assert "bin/.wh.alias" in names and "var/.wh.cache" in names
    assert not any(name.startswith("var/cache/") for name in names)
    assert tree_digest(base) == tree_digest(modified)


def test_directory_replaced_by_a_file_and_file_by_a_directory(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        shutil.rmtree(root / "var")
        (root / "var").write_bytes(b"now a file")
        (root / "data").unlink()
        (root / "data" / "inner").mkdir(parents=True)
        (root / "data" / "inner" / "f").write_bytes(b"inside")

    base, modified, names = _round_trip(tmp_path, change)
    assert "data/inner/f" in names
    assert tree_digest(base, mtimes=True) == tree_digest(modified, mtimes=True)


def test_metadata_changes_are_detected(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        os.chmod(root / "bin" / "tool", 0o755)
        (root / "bin" / "alias").unlink()
        (root / "bin" / "alias").symlink_to("elsewhere")

    base, modified, names = _round_trip(tmp_path, change)
    assert {"bin/tool", "bin/alias"} <= set(names)
    assert tree_digest(base) == tree_digest(modified)


def test_xattr_change_is_detected(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        os.setxattr(root / "etc" / "passwd", "user.label", b"v")

    try:
        os.setxattr(tmp_path, "user.probe", b"1")
    except OSError as err:
        pytest.skip(f"user xattrs unsupported here: {err}")
    base, modified, names = _round_trip(tmp_path, change)
    assert "etc/passwd" in names
    assert tree_digest(base) == tree_digest(modified)


def test_new_hardlink_to_an_unchanged_file_links_into_the_lower_layer(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        os.link(root / "etc" / "passwd", root / "etc" / "zz-passwd-link")

    base, _modified, names = _round_trip(tmp_path, change)
    assert "etc/zz-passwd-link" in names
    assert (
        os.stat(base / "etc" / "passwd").st_ino == os.stat(base / "etc" / "zz-passwd-link").st_ino
    )


def test_fixed_mtime_makes_the_diff_reproducible(tmp_path: Path) -> None:
    base = _base(tmp_path / "base")
    modified = tmp_path / "modified"
    shutil.copytree(base, modified, symlinks=True)
    (modified / "new").write_bytes(b"n")
    first, second = io.BytesIO(), io.BytesIO()
    options = TarOptions(mtime=0)
    assert write_diff_layer(base, modified, first, options=options) == write_diff_layer(
        base, modified, second, options=options
    )


def test_missing_tree_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="not a directory"):
        write_diff_layer(tmp_path, tmp_path / "nope", io.BytesIO())
