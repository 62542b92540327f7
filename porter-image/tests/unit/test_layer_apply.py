"""apply_layer: the image-spec's changeset rules, whiteouts, and what entries keep."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from image_host_features import missing_user_xattrs, skip_unless
from porter_image.layer import (
    ApplyOptions,
    HostileLayerError,
    LayerError,
    apply_layer,
    tree_digest,
    write_layer,
)
from porter_image.layer.testing import (
    archive,
    compress,
    device,
    directory,
    fifo,
    file,
    hardlink,
    symlink,
)
from porter_specs import media_types
from porter_specs.digest import from_bytes

IS_ROOT = os.geteuid() == 0


def _apply(dest: Path, *members, compression: str = "none", options: ApplyOptions | None = None):
    data = archive(*members)
    blob = compress(data, compression)
    media = media_types.layer_media_type("" if compression == "none" else compression)
    return apply_layer(io.BytesIO(blob), media, dest, options or ApplyOptions()), from_bytes(data)


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_round_trip_gives_the_same_tree_and_returns_the_diff_id(
    tmp_path: Path, compression: str
) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f").write_bytes(os.urandom(100_000))
    (src / "l").symlink_to("d/f")
    out = io.BytesIO()
    result = write_layer(src, out, compression)
    out.seek(0)
    assert apply_layer(out, result.media_type, tmp_path / "dest") == result.diff_id
    assert tree_digest(tmp_path / "dest", mtimes=True) == tree_digest(src, mtimes=True)


def test_diff_id_is_of_the_uncompressed_stream(tmp_path: Path) -> None:
    diff_id, expected = _apply(tmp_path, file("a", b"1"), compression="gzip")
    assert diff_id == expected


def test_whiteout_removes_the_lower_file(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "gone").write_bytes(b"")
    (tmp_path / "d" / "kept").write_bytes(b"")
    _apply(tmp_path, file("d/.wh.gone"))
    assert sorted(os.listdir(tmp_path / "d")) == ["kept"]


def test_whiteout_removes_a_lower_directory_tree(tmp_path: Path) -> None:
    (tmp_path / "d" / "deep").mkdir(parents=True)
    (tmp_path / "d" / "deep" / "f").write_bytes(b"")
    _apply(tmp_path, file(".wh.d"))
    assert not (tmp_path / "d").exists()


def test_whiteout_removes_a_symlink_not_its_target(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "f").write_bytes(b"")
    (tmp_path / "link").symlink_to("target")
    _apply(tmp_path, file(".wh.link"))
    assert not (tmp_path / "link").is_symlink() and (tmp_path / "target" / "f").exists()


def test_whiteout_of_a_missing_path_is_harmless(tmp_path: Path) -> None:
    _apply(tmp_path, file("nowhere/.wh.nothing"))
    assert os.listdir(tmp_path) == []


def test_whiteout_does_not_remove_what_the_same_layer_added(tmp_path: Path) -> None:
    _apply(tmp_path, file("new", b"1"), file(".wh.new"))
    assert (tmp_path / "new").read_bytes() == b"1"


def test_opaque_directory_hides_lower_children_only(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "old").write_bytes(b"")
    _apply(tmp_path, directory("d/"), file("d/new", b"n"), file("d/.wh..wh..opq"))
    assert os.listdir(tmp_path / "d") == ["new"]


def test_file_replaces_a_lower_file_without_touching_its_hardlinks(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"old")
    os.link(tmp_path / "a", tmp_path / "b")
    _apply(tmp_path, file("a", b"new"))
    assert (tmp_path / "a").read_bytes() == b"new" and (tmp_path / "b").read_bytes() == b"old"


def test_directory_over_a_directory_keeps_it_and_takes_its_mode(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir(mode=0o700)
    (tmp_path / "d" / "f").write_bytes(b"")
    _apply(tmp_path, directory("d/", mode=0o751))
    assert os.listdir(tmp_path / "d") == ["f"]
    assert stat.S_IMODE(os.stat(tmp_path / "d").st_mode) == 0o751


def test_file_replaces_a_lower_directory(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    _apply(tmp_path, file("d", b"now a file"))
    assert (tmp_path / "d").read_bytes() == b"now a file"


def test_directory_replaces_a_lower_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "d").symlink_to("real")
    _apply(tmp_path, directory("d/"), file("d/f"))
    assert not (tmp_path / "d").is_symlink() and (tmp_path / "d" / "f").exists()
    assert os.listdir(tmp_path / "real") == []


def test_missing_parents_are_created(tmp_path: Path) -> None:
    _apply(tmp_path, file("a/b/c", b"x"))
    assert (tmp_path / "a" / "b" / "c").read_bytes() == b"x"


def test_leading_slash_and_dot_slash_are_relative_to_the_destination(tmp_path: Path) -> None:
    _apply(tmp_path, file("/abs", b"1"), file("./dot", b"2"), file("a/./b/../c", b"3"))
    assert sorted(os.listdir(tmp_path)) == ["a", "abs", "dot"]
    assert (tmp_path / "a" / "c").read_bytes() == b"3"


def test_parent_symlinks_are_followed_inside_the_destination(tmp_path: Path) -> None:
    (tmp_path / "usr" / "lib").mkdir(parents=True)
    (tmp_path / "lib").symlink_to("usr/lib")
    (tmp_path / "abs").symlink_to("/usr/lib")
    _apply(tmp_path, file("lib/one", b"1"), file("abs/two", b"2"))
    assert sorted(os.listdir(tmp_path / "usr" / "lib")) == ["one", "two"]


def test_hardlinks_share_an_inode(tmp_path: Path) -> None:
    _apply(tmp_path, file("a", b"data"), hardlink("b", "a"), hardlink("d/c", "/a"))
    inodes = {os.stat(tmp_path / name).st_ino for name in ("a", "b", "d/c")}
    assert len(inodes) == 1


def test_hardlink_to_a_missing_target_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="'b': hardlink target 'missing' does not exist"):
        _apply(tmp_path, hardlink("b", "missing"))


def test_symlinks_are_created_as_given(tmp_path: Path) -> None:
    _apply(tmp_path, symlink("l", "/nowhere/at/all"), symlink("r", "../../.."))
    assert os.readlink(tmp_path / "l") == "/nowhere/at/all"
    assert os.readlink(tmp_path / "r") == "../../.."


def test_entry_over_a_symlink_replaces_the_symlink(tmp_path: Path) -> None:
    (tmp_path / "target").write_bytes(b"keep")
    (tmp_path / "l").symlink_to("target")
    _apply(tmp_path, file("l", b"new"))
    assert not (tmp_path / "l").is_symlink() and (tmp_path / "target").read_bytes() == b"keep"


def test_modes_including_special_bits_are_kept(tmp_path: Path) -> None:
    _apply(
        tmp_path,
        file("suid", mode=0o4755),
        file("ro", mode=0o400),
        directory("sticky/", mode=0o1777),
    )
    assert stat.S_IMODE(os.stat(tmp_path / "suid").st_mode) == 0o4755
    assert stat.S_IMODE(os.stat(tmp_path / "ro").st_mode) == 0o400
    assert stat.S_IMODE(os.stat(tmp_path / "sticky").st_mode) == 0o1777


def test_modes_the_umask_would_narrow_are_kept(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        _apply(tmp_path, file("open", mode=0o666), file("exec", mode=0o775))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "open").st_mode) == 0o666
    assert stat.S_IMODE(os.stat(tmp_path / "exec").st_mode) == 0o775


@pytest.mark.skipif(not IS_ROOT, reason="owners need root")
def test_file_in_a_setgid_directory_gets_the_entry_group(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    os.chown(tmp_path / "shared", 0, 4321)
    os.chmod(tmp_path / "shared", 0o2775)
    _apply(tmp_path, file("shared/f", uid=0, gid=0))
    assert os.stat(tmp_path / "shared" / "f").st_gid == 0


@pytest.mark.skipif(not IS_ROOT, reason="owners need root")
def test_directory_kept_from_a_lower_layer_takes_the_entry_owner(tmp_path: Path) -> None:
    _apply(tmp_path, directory("d/", uid=1234, gid=4321))
    _apply(tmp_path, directory("d/", uid=0, gid=0))
    assert (os.stat(tmp_path / "d").st_uid, os.stat(tmp_path / "d").st_gid) == (0, 0)


def test_a_verified_diff_id_is_returned_without_hashing_again(tmp_path: Path) -> None:
    data = archive(file("a", b"1"))
    claimed = from_bytes(b"not the layer")  # returned as given: the caller vouches for it
    got = apply_layer(io.BytesIO(data), media_types.LAYER_TAR, tmp_path, verified_diff_id=claimed)
    assert got == claimed and (tmp_path / "a").read_bytes() == b"1"


def test_a_verified_diff_id_for_a_compressed_layer_is_refused(tmp_path: Path) -> None:
    blob = compress(archive(file("a", b"1")), "gzip")
    with pytest.raises(LayerError, match="only known for an uncompressed layer"):
        apply_layer(
            io.BytesIO(blob), media_types.LAYER_TAR_GZIP, tmp_path, verified_diff_id=from_bytes(b"")
        )


def test_times_are_kept_with_atime_from_pax(tmp_path: Path) -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("f")
        info.mtime, info.pax_headers = 1, {"atime": "2.5"}
        tar.addfile(info, io.BytesIO(b""))
        link = tarfile.TarInfo("l")
        link.type, link.linkname, link.mtime = tarfile.SYMTYPE, "f", 3
        tar.addfile(link)
    apply_layer(io.BytesIO(out.getvalue()), media_types.LAYER_TAR, tmp_path)
    st = os.stat(tmp_path / "f")
    assert (st.st_mtime_ns, st.st_atime_ns) == (1_000_000_000, 2_500_000_000)
    assert os.lstat(tmp_path / "l").st_mtime_ns == 3_000_000_000


def test_directory_times_are_set_after_their_contents(tmp_path: Path) -> None:
    _apply(
        tmp_path,
        directory("d/", mtime_ns=5_000_000_000),
        file("d/f"),
        directory("d/e/", mtime_ns=6_000_000_000),
        file("d/e/g"),
    )
    assert os.stat(tmp_path / "d").st_mtime_ns == 5_000_000_000
    assert os.stat(tmp_path / "d" / "e").st_mtime_ns == 6_000_000_000


def test_read_only_directory_still_receives_its_contents(tmp_path: Path) -> None:
    _apply(tmp_path, directory("ro/", mode=0o555), file("ro/f", b"x"))
    assert (tmp_path / "ro" / "f").read_bytes() == b"x"
    assert stat.S_IMODE(os.stat(tmp_path / "ro").st_mode) == 0o555
    os.chmod(tmp_path / "ro", 0o755)


def test_xattrs_are_set(tmp_path: Path) -> None:
    skip_unless(missing_user_xattrs(tmp_path))
    _apply(
        tmp_path,
        file("f", xattrs={"user.k": b"\x00\xff"}),
        directory("d/", xattrs={"user.d": b"v"}),
    )
    assert os.getxattr(tmp_path / "f", "user.k") == b"\x00\xff"
    assert os.getxattr(tmp_path / "d", "user.d") == b"v"


def test_fifos_are_created(tmp_path: Path) -> None:
    _apply(tmp_path, fifo("p"))
    assert stat.S_ISFIFO(os.lstat(tmp_path / "p").st_mode)


@pytest.mark.skipif(not IS_ROOT, reason="owners and device nodes need root")
def test_owners_and_device_nodes_as_root(tmp_path: Path) -> None:
    _apply(
        tmp_path,
        file("f", uid=1234, gid=4321),
        device("null", major=1, minor=3),
        symlink("l", "f", uid=7, gid=8),
    )
    st = os.lstat(tmp_path / "null")
    assert stat.S_ISCHR(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev)) == (1, 3)
    assert (os.stat(tmp_path / "f").st_uid, os.stat(tmp_path / "f").st_gid) == (1234, 4321)
    assert os.lstat(tmp_path / "l").st_uid == 7


@pytest.mark.skipif(not IS_ROOT, reason="owners need root")
def test_owners_are_not_preserved_when_asked_not_to(tmp_path: Path) -> None:
    _apply(tmp_path, file("f", uid=1234, gid=4321), options=ApplyOptions(preserve_owners=False))
    assert os.stat(tmp_path / "f").st_uid == os.geteuid()


def test_root_directory_entry_sets_the_destination_mode(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    _apply(dest, directory("./", mode=0o750), file("f"))
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o750


def test_root_entry_that_is_not_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HostileLayerError, match="only a directory may stand for the root"):
        _apply(tmp_path, file("./"))


def test_tar_bomb_past_the_size_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HostileLayerError, match="'big': layer exceeds the limit of 100000"):
        _apply(
            tmp_path,
            file("small", b"1"),
            file("big", bytes(200_000)),
            compression="gzip",
            options=ApplyOptions(max_size=100_000),
        )
    assert not (tmp_path / "big").exists()


def test_truncated_layer_is_a_layer_error(tmp_path: Path) -> None:
    blob = compress(archive(file("f", os.urandom(50_000))), "gzip")
    with pytest.raises(LayerError, match="gzip stream is truncated"):
        apply_layer(io.BytesIO(blob[:-10]), media_types.LAYER_TAR_GZIP, tmp_path)


def test_truncated_tar_names_the_entry(tmp_path: Path) -> None:
    data = archive(file("f", os.urandom(50_000)))
    with pytest.raises(LayerError, match="'f': tar stream is truncated"):
        apply_layer(io.BytesIO(data[:20_000]), media_types.LAYER_TAR, tmp_path)


def test_entry_under_a_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="'f/g': parent 'f' is not a directory"):
        _apply(tmp_path, file("f"), file("f/g"))


def test_no_decompression_thread_outlives_a_failed_apply(tmp_path: Path) -> None:
    import threading

    members = [file(f"f{i}", os.urandom(300_000)) for i in range(20)] + [file("../escape")]
    with pytest.raises(HostileLayerError):
        _apply(tmp_path, file("../early"), *members, compression="gzip")
    assert not [t for t in threading.enumerate() if t.name == "layer-prefetch"]


def test_permission_error_on_a_parent_is_a_layer_error(tmp_path: Path) -> None:
    if IS_ROOT:
        pytest.skip("root is not stopped by directory permissions")
    (tmp_path / "locked").mkdir(mode=0o000)
    try:
        with pytest.raises(LayerError, match="'locked/f': cannot open parent 'locked'"):
            _apply(tmp_path, file("locked/f"))
    finally:
        os.chmod(tmp_path / "locked", 0o755)
