"""Config.User resolved in a rootfs's /etc/passwd and /etc/group (conversion.md, moby's rules)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from porter_image.errors import RuntimeConfigError
from porter_image.exec_user import ExecUser, resolve_user, scoped_path

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
# a comment, then a broken line
broken:x:notanumber:0::/:/bin/sh
app:x:1000:1001:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""
GROUP = """\
root:x:0:
wheel:x:10:app,other
app:x:1001:
audio:x:29:app
nogroup:x:65534:
"""


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(PASSWD)
    (root / "etc" / "group").write_text(GROUP)
    return root


def test_empty_user_is_root_with_roots_home(rootfs: Path) -> None:
    assert resolve_user(rootfs, "") == ExecUser(0, 0, (), "/root")


def test_a_name_gives_its_ids_home_and_supplementary_groups(rootfs: Path) -> None:
    assert resolve_user(rootfs, "app") == ExecUser(1000, 1001, (10, 29), "/home/app")


def test_a_numeric_uid_in_passwd_takes_its_gid_but_no_supplementary_groups(
    rootfs: Path,
) -> None:
    assert resolve_user(rootfs, "1000") == ExecUser(1000, 1001, (), "/home/app")


def test_a_numeric_uid_not_in_passwd_is_taken_as_is(rootfs: Path) -> None:
    assert resolve_user(rootfs, "4242") == ExecUser(4242, 0)


def test_numeric_uid_and_gid_are_taken_as_is(rootfs: Path) -> None:
    assert resolve_user(rootfs, "4242:4343") == ExecUser(4242, 4343)


def test_user_and_group_names_resolve_without_supplementary_groups(rootfs: Path) -> None:
    assert resolve_user(rootfs, "app:audio") == ExecUser(1000, 29, (), "/home/app")


def test_a_numeric_group_overrides_the_users_gid(rootfs: Path) -> None:
    assert resolve_user(rootfs, "nobody:10") == ExecUser(65534, 10, (), "/nonexistent")


def test_an_unknown_user_name_is_an_error(rootfs: Path) -> None:
    with pytest.raises(
        RuntimeConfigError, match="User 'ghost': no such user in the rootfs's /etc/passwd"
    ):
        resolve_user(rootfs, "ghost")


def test_an_unknown_group_name_is_an_error(rootfs: Path) -> None:
    with pytest.raises(RuntimeConfigError, match="no group 'ghosts' in the rootfs's /etc/group"):
        resolve_user(rootfs, "app:ghosts")


def test_an_id_past_the_range_is_an_error(rootfs: Path) -> None:
    with pytest.raises(RuntimeConfigError, match="out of range"):
        resolve_user(rootfs, "4294967296")


def test_without_passwd_numbers_work_and_names_fail(tmp_path: Path) -> None:
    assert resolve_user(tmp_path, "12:34") == ExecUser(12, 34)
    assert resolve_user(tmp_path, "") == ExecUser(0, 0)
    with pytest.raises(RuntimeConfigError, match="User 'app': no such user"):
        resolve_user(tmp_path, "app")


def test_an_absolute_symlink_to_passwd_is_followed_inside_the_rootfs(
    rootfs: Path, tmp_path: Path
) -> None:
    (rootfs / "usr" / "lib").mkdir(parents=True)
    (rootfs / "usr" / "lib" / "passwd").write_text("inside:x:7:7::/in:/bin/sh\n")
    (rootfs / "etc" / "passwd").unlink()
    (rootfs / "etc" / "passwd").symlink_to("/usr/lib/passwd")
    (tmp_path / "usr" / "lib").mkdir(parents=True)  # the same path outside must not be read
    (tmp_path / "usr" / "lib" / "passwd").write_text("outside:x:9:9::/out:/bin/sh\n")
    assert resolve_user(rootfs, "inside") == ExecUser(7, 7, (), "/in")


def test_dotdot_in_a_symlink_stops_at_the_rootfs(rootfs: Path) -> None:
    (rootfs / "etc" / "link").symlink_to("../../../../etc/passwd")
    assert scoped_path(rootfs, "/etc/link") == rootfs / "etc" / "passwd"


def test_a_symlink_loop_is_an_error(rootfs: Path) -> None:
    (rootfs / "etc" / "passwd").unlink()
    (rootfs / "etc" / "passwd").symlink_to("passwd")
    with pytest.raises(RuntimeConfigError, match="too many levels of symbolic links"):
        resolve_user(rootfs, "root")


def test_a_passwd_that_is_not_a_regular_file_is_refused(rootfs: Path) -> None:
    (rootfs / "etc" / "passwd").unlink()
    os.mkfifo(rootfs / "etc" / "passwd")  # reading a fifo would hang the unpack
    with pytest.raises(RuntimeConfigError, match="/etc/passwd: is not a regular file"):
        resolve_user(rootfs, "root")
