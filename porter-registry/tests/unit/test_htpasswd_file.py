"""htpasswd files as `htpasswd -B` writes them: bcrypt only, reloaded when they change."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from auth_support import write_htpasswd
from porter_registry.config import ConfigError
from porter_registry.htpasswd import Htpasswd, HtpasswdError


@pytest.fixture
def users(tmp_path: Path) -> Htpasswd:
    return Htpasswd(write_htpasswd(tmp_path / "htpasswd"))


def test_the_right_password_of_an_htpasswd_b_entry_is_accepted(users: Htpasswd) -> None:
    assert users.path.read_text().startswith("alice:$2y$")
    assert users.verify("alice", "alice-secret")


def test_a_wrong_password_is_refused(users: Htpasswd) -> None:
    assert not users.verify("alice", "bob-secret")


def test_an_unknown_user_is_refused(users: Htpasswd) -> None:
    assert not users.verify("mallory", "alice-secret")


def test_a_repeated_login_is_still_checked_against_the_password(users: Htpasswd) -> None:
    assert users.verify("bob", "bob-secret")
    assert users.verify("bob", "bob-secret")
    assert not users.verify("bob", "bob-secret ")


def test_passwords_longer_than_bcrypt_reads_match_as_htpasswd_hashed_them(tmp_path: Path) -> None:
    long = "p" * 100
    users = Htpasswd(write_htpasswd(tmp_path / "htpasswd", {"carol": long}))
    assert users.verify("carol", long)


@pytest.mark.parametrize("flag", ["-m", "-s", "-p"])
def test_a_non_bcrypt_entry_is_refused_at_load_naming_line_and_user(
    tmp_path: Path, flag: str
) -> None:
    path = write_htpasswd(tmp_path / "htpasswd", {"alice": "a"})
    subprocess.run(["htpasswd", flag, "-b", str(path), "bob", "b"], check=True, capture_output=True)
    with pytest.raises(HtpasswdError, match=r"line 2: user 'bob' has a non-bcrypt hash"):
        Htpasswd(path)


def test_htpasswd_errors_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        Htpasswd(tmp_path / "missing")


def test_a_line_without_a_hash_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    path.write_text("# users\n\nalice\n")
    with pytest.raises(HtpasswdError, match="line 3: expected USER:HASH"):
        Htpasswd(path)


def test_a_user_added_to_the_file_can_log_in_without_a_restart(tmp_path: Path) -> None:
    path = write_htpasswd(tmp_path / "htpasswd", {"alice": "a"})
    users = Htpasswd(path)
    subprocess.run(
        ["htpasswd", "-B", "-b", str(path), "dave", "d"], check=True, capture_output=True
    )
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    users._checked_at = 0.0  # skip the once-a-second stat throttle
    assert users.verify("dave", "d")
