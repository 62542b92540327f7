"""list's owner column: the owner of the container's state folder, as runc's list shows it."""

from __future__ import annotations

import os
import pwd

import pytest
from porter_runtime.commands.list import _owner


def _nameless_uid() -> int:
    return next(uid for uid in range(4_000_000, 4_001_000) if not _has_name(uid))


def _has_name(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def test_the_owner_is_the_name_of_the_state_folders_user(tmp_path):
    (tmp_path / "ctr").mkdir()
    assert _owner(str(tmp_path), "ctr") == pwd.getpwuid(os.geteuid()).pw_name


def test_a_uid_without_a_name_is_shown_as_hash_uid(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("giving the state folder to another uid needs root")
    uid = _nameless_uid()
    (tmp_path / "ctr").mkdir()
    os.chown(tmp_path / "ctr", uid, -1)
    assert _owner(str(tmp_path), "ctr") == f"#{uid}"


def test_a_state_folder_gone_meanwhile_has_no_owner(tmp_path):
    assert _owner(str(tmp_path), "gone") == ""
