"""write_layer: a deterministic tar of a tree."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from image_host_features import missing_user_xattrs, skip_unless
from porter_image.layer import LayerError, TarOptions, write_layer
from porter_specs import media_types
from porter_specs.digest import from_bytes


def _tree(root: Path) -> Path:
    (root / "b" / "sub").mkdir(parents=True)
    (root / "a").write_bytes(b"alpha")
    (root / "b" / "sub" / "big").write_bytes(os.urandom(3 << 20))
    (root / "c").symlink_to("a")
    os.link(root / "a", root / "d-hardlink")
    os.chmod(root / "a", 0o4755)
    return root


def _tar(root: Path, options: TarOptions | None = None) -> bytes:
    out = io.BytesIO()
    write_layer(root, out, "none", options or TarOptions())
    return out.getvalue()


def _members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return archive.getmembers()


def test_same_tree_written_twice_gives_the_same_digest(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    first, second = io.BytesIO(), io.BytesIO()
    assert write_layer(root, first) == write_layer(root, second)
    assert first.getvalue() == second.getvalue()


def test_fixed_mtime_makes_two_copies_of_a_tree_identical(tmp_path: Path) -> None:
    one = _tree(tmp_path / "one")
    two = tmp_path / "two"
    subprocess.run(["cp", "-a", one, two], check=True)  # keeps the hardlink, unlike copytree
    os.utime(two / "a", (1, 1))
    options = TarOptions(mtime=0)
    assert _tar(one, options) == _tar(two, options)
    assert _tar(one) != _tar(two)


def test_entries_are_sorted_depth_first_with_directories_first(tmp_path: Path) -> None:
    root = tmp_path / "t"
    for name in ("z", "a-b", "a/y", "a/x"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")
    assert [m.name for m in _members(_tar(root))] == ["a", "a/x", "a/y", "a-b", "z"]


def test_names_are_relative_and_directories_end_with_a_slash(tmp_path: Path) -> None:
    root = tmp_path / "t"
    (root / "d").mkdir(parents=True)
    data = _tar(root)
    assert data[:2] == b"d/"


def test_owner_names_are_empty_and_ids_numeric(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    for member in _members(_tar(root, TarOptions(owner=(1234, 5678)))):
        assert (member.uname, member.gname) == ("", "")
        assert (member.uid, member.gid) == (1234, 5678)


def test_modes_symlinks_and_hardlinks_are_recorded(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    members = {m.name: m for m in _members(_tar(root))}
    assert members["a"].mode == 0o4755
    assert members["c"].issym() and members["c"].linkname == "a"
    assert members["d-hardlink"].islnk() and members["d-hardlink"].linkname == "a"
    assert members["d-hardlink"].size == 0


def test_long_and_non_ascii_names_use_pax_records(tmp_path: Path) -> None:
    root = tmp_path / "t"
    long_dir = root / ("x" * 120)
    long_dir.mkdir(parents=True)
    (long_dir / "é").write_bytes(b"1")
    (root / "link").symlink_to("y" * 150)
    names = {m.name: m for m in _members(_tar(root))}
    assert "x" * 120 + "/é" in names
    assert names["link"].linkname == "y" * 150


def test_xattrs_are_pax_schily_records(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "f").write_bytes(b"")
    skip_unless(missing_user_xattrs(root))
    os.setxattr(root / "f", "user.porter", b"value")
    (member,) = _members(_tar(root))
    assert member.pax_headers["SCHILY.xattr.user.porter"] == "value"
    (member,) = _members(_tar(root, TarOptions(xattrs=False)))
    assert "SCHILY.xattr.user.porter" not in member.pax_headers


def test_fifos_are_recorded_and_sockets_skipped(tmp_path: Path) -> None:
    import socket

    root = tmp_path / "t"
    root.mkdir()
    os.mkfifo(root / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.fspath(root / "sock"))
    sock.close()
    assert [(m.name, m.isfifo()) for m in _members(_tar(root))] == [("fifo", True)]


def test_result_describes_the_blob_and_the_tar(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    out = io.BytesIO()
    result = write_layer(root, out, "gzip")
    blob = out.getvalue()
    assert result.media_type == media_types.LAYER_TAR_GZIP
    assert result.digest == from_bytes(blob) and result.size == len(blob)
    assert result.diff_id == from_bytes(_tar(root))


def test_zstd_and_uncompressed_media_types(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    assert write_layer(root, io.BytesIO(), "zstd").media_type == media_types.LAYER_TAR_ZSTD
    plain = write_layer(root, io.BytesIO(), "none")
    assert plain.media_type == media_types.LAYER_TAR and plain.digest == plain.diff_id


def test_missing_root_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"missing.*not a directory"):
        write_layer(tmp_path / "missing", io.BytesIO())


def test_unknown_compression_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="unknown compression 'lz4'"):
        write_layer(tmp_path, io.BytesIO(), "lz4")


def test_gnu_tar_reads_the_layer(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    (tmp_path / "layer.tar").write_bytes(_tar(root))
    listing = subprocess.run(
        ["tar", "-tvf", tmp_path / "layer.tar"], capture_output=True, text=True, check=True
    ).stdout
    assert "b/sub/big" in listing and "d-hardlink link to a" in listing
