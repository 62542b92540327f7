"""write_changes: lower layers + the diff == the changed tree, whiteouts for what was deleted.

Each test unpacks a tree, records its listing, changes the tree, and applies the diff onto a
second unpack of the same layer, which must then equal the changed tree.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from image_host_features import missing_user_xattrs, skip_unless
from porter_image.layer import (
    LayerError,
    ListingWriter,
    TarOptions,
    apply_layer,
    read_listing,
    record_tree,
    tree_digest,
    write_changes,
    write_layer,
)

IS_ROOT = os.geteuid() == 0


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


class Bundle:
    """`tree` as unpack leaves it (with its listing) and `lower`, the same layer applied
    again, standing for the image's layers under the diff."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        layer = io.BytesIO()
        self.media_type = write_layer(_base(tmp_path / "orig"), layer, "none").media_type
        self.blob = layer.getvalue()
        self.tree = self._unpack(tmp_path / "tree")
        self.lower = self._unpack(tmp_path / "lower")
        self.listing = record_tree(self.tree, tmp_path / "listing.gz")
        self.generation = 0

    def _unpack(self, dest: Path) -> Path:
        apply_layer(io.BytesIO(self.blob), self.media_type, dest)
        return dest

    def diff(self, options: TarOptions = TarOptions()) -> list[str]:  # noqa: B008
        """Write the diff, apply it onto `lower`, move on to the new listing; entry names."""
        self.generation += 1
        recorder = ListingWriter(self.tmp / f"listing-{self.generation}.gz")
        out = io.BytesIO()
        result = write_changes(
            self.tree, read_listing(self.listing), out, "gzip", options, recorder
        )
        self.listing = recorder.commit()
        with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as archive:
            names = archive.getnames()
        out.seek(0)
        apply_layer(out, result.media_type, self.lower)
        return names


def _round_trip(tmp_path: Path, change: Callable[[Path], None]) -> tuple[Bundle, list[str]]:
    bundle = Bundle(tmp_path)
    change(bundle.tree)
    return bundle, bundle.diff()


def _same(bundle: Bundle) -> bool:
    return tree_digest(bundle.lower, mtimes=True) == tree_digest(bundle.tree, mtimes=True)


def test_unchanged_tree_gives_an_empty_diff(tmp_path: Path) -> None:
    _bundle, names = _round_trip(tmp_path, lambda root: None)
    assert names == []


def test_added_and_modified_files_are_written_with_their_parents(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        (root / "etc" / "conf.d" / "b.conf").write_bytes(b"b=2\n")
        (root / "etc" / "passwd").write_bytes(b"root:x:0:0\nuser:x:1000:1000\n")

    bundle, names = _round_trip(tmp_path, change)
    assert names == ["etc", "etc/conf.d", "etc/conf.d/b.conf", "etc/passwd"]
    assert _same(bundle)


def test_edit_with_same_size_and_restored_mtime_is_detected(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        target = root / "etc" / "passwd"
        st = os.stat(target)
        target.write_bytes(b"ROOT:X:0:0\n")  # same size
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # as `touch -d` would

    bundle, names = _round_trip(tmp_path, change)
    assert names == ["etc", "etc/passwd"]
    assert (bundle.lower / "etc" / "passwd").read_bytes() == b"ROOT:X:0:0\n"


def test_deletions_become_whiteouts(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        (root / "bin" / "alias").unlink()
        shutil.rmtree(root / "var" / "cache")

    bundle, names = _round_trip(tmp_path, change)
    assert "bin/.wh.alias" in names and "var/.wh.cache" in names
    assert not any(name.startswith("var/cache/") for name in names)
    assert _same(bundle)


def test_directory_replaced_by_a_file_and_file_by_a_directory(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        shutil.rmtree(root / "var")
        (root / "var").write_bytes(b"now a file")
        (root / "data").unlink()
        (root / "data" / "inner").mkdir(parents=True)
        (root / "data" / "inner" / "f").write_bytes(b"inside")

    bundle, names = _round_trip(tmp_path, change)
    assert {"var", "data/inner/f"} <= set(names)
    assert not any(name.startswith("var/") for name in names)
    assert _same(bundle)


def test_mode_change_and_symlink_retarget_are_detected(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        os.chmod(root / "bin" / "tool", 0o755)
        (root / "bin" / "alias").unlink()
        (root / "bin" / "alias").symlink_to("elsewhere")

    bundle, names = _round_trip(tmp_path, change)
    assert {"bin/tool", "bin/alias"} <= set(names)
    assert os.readlink(bundle.lower / "bin" / "alias") == "elsewhere"
    assert _same(bundle)


@pytest.mark.skipif(not IS_ROOT, reason="chown needs root")
def test_owner_change_is_detected(tmp_path: Path) -> None:
    bundle, names = _round_trip(tmp_path, lambda root: os.chown(root / "bin" / "tool", 7, 8))
    assert "bin/tool" in names
    assert (
        os.stat(bundle.lower / "bin" / "tool").st_uid,
        os.stat(bundle.lower / "bin" / "tool").st_gid,
    ) == (7, 8)


def test_xattr_change_is_detected(tmp_path: Path) -> None:
    skip_unless(missing_user_xattrs(tmp_path))
    bundle, names = _round_trip(
        tmp_path, lambda root: os.setxattr(root / "etc" / "passwd", "user.label", b"v")
    )
    assert "etc/passwd" in names
    assert os.getxattr(bundle.lower / "etc" / "passwd", "user.label") == b"v"


def test_new_hardlink_to_an_unchanged_file_shares_its_inode(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        os.link(root / "etc" / "passwd", root / "etc" / "zz-passwd-link")

    bundle, names = _round_trip(tmp_path, change)
    assert "etc/zz-passwd-link" in names
    lower = bundle.lower / "etc"
    assert os.stat(lower / "passwd").st_ino == os.stat(lower / "zz-passwd-link").st_ino


def test_hardlinks_in_a_new_directory_stay_one_inode(tmp_path: Path) -> None:
    def change(root: Path) -> None:
        (root / "srv").mkdir()
        (root / "srv" / "a").write_bytes(b"shared")
        os.link(root / "srv" / "a", root / "srv" / "b")

    bundle, _names = _round_trip(tmp_path, change)
    srv = bundle.lower / "srv"
    assert os.stat(srv / "a").st_ino == os.stat(srv / "b").st_ino
    assert _same(bundle)


def test_second_diff_holds_only_the_second_change(tmp_path: Path) -> None:
    bundle, first = _round_trip(tmp_path, lambda root: (root / "one").write_bytes(b"1"))
    (bundle.tree / "two").write_bytes(b"2")
    (bundle.tree / "etc" / "passwd").unlink()
    second = bundle.diff()
    assert first == ["one"]
    assert second == ["etc", "etc/.wh.passwd", "two"]
    assert _same(bundle)


def test_listing_after_a_diff_equals_a_fresh_listing(tmp_path: Path) -> None:
    bundle, _names = _round_trip(tmp_path, lambda root: (root / "bin" / "new").write_bytes(b"n"))
    fresh = record_tree(bundle.tree, tmp_path / "fresh.gz")
    assert list(read_listing(bundle.listing)) == list(read_listing(fresh))


def test_fixed_mtime_makes_the_diff_reproducible(tmp_path: Path) -> None:
    bundle = Bundle(tmp_path)
    (bundle.tree / "new").write_bytes(b"n")
    first, second = io.BytesIO(), io.BytesIO()
    options = TarOptions(mtime=0)
    one = write_changes(bundle.tree, read_listing(bundle.listing), first, options=options)
    two = write_changes(bundle.tree, read_listing(bundle.listing), second, options=options)
    assert one == two


def test_missing_tree_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="not a directory"):
        write_changes(tmp_path / "nope", iter(()), io.BytesIO())


def test_corrupt_listing_is_an_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "listing.gz"
    bad.write_bytes(gzip.compress(b'{"format": "something else"}\n'))
    with pytest.raises(LayerError, match="not a listing"):
        list(read_listing(bad))
    bad.write_bytes(b"not gzip")
    with pytest.raises(LayerError, match="cannot read listing"):
        list(read_listing(bad))


def test_names_that_are_not_utf8_survive_the_listing(tmp_path: Path) -> None:
    bundle = Bundle(tmp_path)
    name = os.fsdecode(b"caf\xe9")
    (bundle.tree / name).write_bytes(b"x")
    assert bundle.diff() == [name]
    assert bundle.diff() == []
