"""Where state lives without --root: root's /run, or a directory of the calling user's own."""

import os

import pytest
from porter_runtime import cli
from porter_runtime.errors import UsageError


def test_root_keeps_state_under_run(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert cli.default_root() == "/run/porter-runtime"


def test_a_user_with_xdg_runtime_dir_keeps_state_there(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 4321)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert cli.default_root() == f"{tmp_path}/porter-runtime"


def test_someone_elses_tmp_directory_is_refused(monkeypatch, tmp_path):
    fake_uid = 54321
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: fake_uid)
    path = f"/tmp/porter-runtime-{fake_uid}"
    if os.path.exists(path):
        pytest.skip(f"{path} exists on this machine")
    os.mkdir(path, 0o700)  # owned by the test's user, not by the pretended one
    try:
        with pytest.raises(UsageError, match="pass --root"):
            cli.default_root()
    finally:
        os.rmdir(path)
