"""The probes porter-image's tests skip by, against simulated hosts: a PATH without the peer,
a busybox path that is absent, a file system that refuses user xattrs."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from image_host_features import missing_busybox, missing_program, missing_user_xattrs, needs


def test_a_program_not_on_the_path_is_missing(tmp_path: Path) -> None:
    assert missing_program("umoci", path=str(tmp_path)) == "umoci is not installed"


def test_an_executable_on_the_path_is_present(tmp_path: Path) -> None:
    (tmp_path / "umoci").write_text("#!/bin/sh\n")
    os.chmod(tmp_path / "umoci", 0o755)
    assert missing_program("umoci", path=str(tmp_path)) is None


def test_busybox_that_is_not_installed_is_missing(tmp_path: Path) -> None:
    absent = str(tmp_path / "busybox")
    assert missing_busybox(absent) == f"busybox-static is not installed ({absent})"


def test_a_file_system_refusing_user_xattrs_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))

    monkeypatch.setattr(os, "setxattr", refuse)
    reason = missing_user_xattrs(tmp_path)
    assert reason == f"user xattrs unsupported on {tmp_path}'s file system: Operation not supported"


def test_the_xattr_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    missing_user_xattrs(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_needs_skips_with_the_probes_reason() -> None:
    marker = needs("skopeo is not installed")
    assert (marker.args, marker.kwargs["reason"]) == ((True,), "skopeo is not installed")
