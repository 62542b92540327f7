"""Paths inside the rootfs resolve inside it, whatever symlinks the image holds."""

import os

import pytest
from porter_runtime.errors import ConfigError
from porter_runtime.securejoin import open_in_root


def test_a_symlink_loop_is_a_config_error(tmp_path):
    os.symlink("/b", tmp_path / "a")
    os.symlink("/a", tmp_path / "b")
    with pytest.raises(ConfigError, match="path /a/x: too many levels"):
        open_in_root(str(tmp_path), "/a/x", create="dir")


def test_open_in_root_creates_missing_directories(tmp_path):
    fd = open_in_root(str(tmp_path), "/x/y/z", create="dir")
    try:
        assert os.readlink(f"/proc/self/fd/{fd}") == f"{tmp_path}/x/y/z"
    finally:
        os.close(fd)


def test_open_in_root_creates_a_file_mount_point(tmp_path):
    fd = open_in_root(str(tmp_path), "/etc/resolv.conf", create="file")
    os.close(fd)
    assert (tmp_path / "etc" / "resolv.conf").is_file()


def test_open_in_root_through_a_symlink_to_the_host_stays_inside(tmp_path):
    outside = tmp_path / "host"
    root = tmp_path / "rootfs"
    outside.mkdir()
    root.mkdir()
    os.symlink(str(outside), root / "evil")
    fd = open_in_root(str(root), "/evil/target", create="dir")
    os.close(fd)
    assert (root / str(outside).lstrip("/") / "target").is_dir()
    assert not (outside / "target").exists()


def test_missing_path_without_create_is_an_error(tmp_path):
    with pytest.raises(ConfigError):
        open_in_root(str(tmp_path), "/nope")


def test_file_where_a_directory_is_needed_is_an_error(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match="not a directory"):
        open_in_root(str(tmp_path), "/f", create="dir")
