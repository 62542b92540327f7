"""Paths inside a rootfs resolve inside it, whatever symlinks the image holds."""

from __future__ import annotations

import os

import pytest
from porter_specs.rootfs_path import SymlinkLoopError, scoped_join


def test_plain_path_joins(tmp_path):
    assert scoped_join(str(tmp_path), "/a/b") == f"{tmp_path}/a/b"


def test_the_root_itself_is_the_root(tmp_path):
    assert scoped_join(str(tmp_path), "/./") == str(tmp_path)
    assert scoped_join("/", "/etc") == "/etc"


def test_dotdot_cannot_climb_above_the_root(tmp_path):
    assert scoped_join(str(tmp_path), "/../../etc") == f"{tmp_path}/etc"


def test_absolute_symlink_resolves_inside_the_root(tmp_path):
    (tmp_path / "etc").mkdir()
    os.symlink("/tmp", tmp_path / "etc" / "link")
    assert scoped_join(str(tmp_path), "/etc/link/x") == f"{tmp_path}/tmp/x"


def test_relative_symlink_climbing_out_is_clamped(tmp_path):
    os.symlink("../../../../host", tmp_path / "escape")
    assert scoped_join(str(tmp_path), "/escape/file") == f"{tmp_path}/host/file"


def test_symlink_loop_is_an_error(tmp_path):
    os.symlink("/b", tmp_path / "a")
    os.symlink("/a", tmp_path / "b")
    with pytest.raises(SymlinkLoopError, match="/a: too many levels of symbolic links"):
        scoped_join(str(tmp_path), "/a")
