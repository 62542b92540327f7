"""Paths of `docker cp` resolved inside a container's rootfs, never out of it."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from porterd.containers import archive_view
from porterd.containers.files import (
    VIEW_INVALID,
    VIEW_NOT_FOUND,
    bound_points,
    resolve_in_rootfs,
    view_command,
)
from porterd.containers.record import Container


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/:/bin/sh\n")
    os.symlink("/etc", root / "link")
    os.symlink("../../..", root / "up")
    return root


@pytest.mark.parametrize("path", ["/..", "/../..", "..", "/etc/../.."])
def test_dot_dot_stays_at_the_rootfs(rootfs: Path, path: str) -> None:
    assert resolve_in_rootfs(rootfs, path) == rootfs


def test_a_symlinked_parent_resolves_inside_the_rootfs(rootfs: Path) -> None:
    assert resolve_in_rootfs(rootfs, "/link/passwd") == rootfs / "etc" / "passwd"
    assert resolve_in_rootfs(rootfs, "/up/etc/passwd") == rootfs / "etc" / "passwd"


def test_the_last_part_is_kept_as_named(rootfs: Path) -> None:
    assert resolve_in_rootfs(rootfs, "/link") == rootfs / "link"


def point(kind: str, source: str, destination: str) -> dict:
    return {"Type": kind, "Source": source, "Destination": destination, "RW": True}


def test_cp_sees_through_volumes_and_binds_but_not_tmpfs() -> None:
    container = Container(
        id="c" * 64, name="/c", created="", image="busybox", image_id="", image_config={},
        lowerdirs=(), config={}, host_config={}, runtime="porter-runtime",
    )  # fmt: skip
    container.mounts = [
        point("volume", "/var/lib/porter/volumes/v/_data", "/data"),
        point("bind", "/srv", "/host"),
        point("tmpfs", "", "/run"),
    ]
    assert [p["Destination"] for p in bound_points(container)] == ["/data", "/host"]


def test_without_mounts_the_archive_child_needs_no_mount_namespace(rootfs: Path) -> None:
    command = view_command("stat", rootfs, "/etc/passwd", [])
    assert "unshare" not in command and command[-1] == "[]"


def test_with_mounts_the_archive_child_binds_them_in_a_mount_namespace_of_its_own(
    rootfs: Path,
) -> None:
    points = [point("volume", "/volumes/v", "/data")]
    command = view_command("tar", rootfs, "/data", points)
    assert command[:4] == ["unshare", "--mount", "--propagation", "private"]
    assert json.loads(command[-1]) == points and command[-3:-1] == [str(rootfs), "/data"]


def test_the_archive_child_prints_the_stat_header_of_a_path(
    rootfs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert archive_view.main(["stat", str(rootfs), "/link/passwd", "[]"]) == 0
    header = json.loads(base64.b64decode(capsys.readouterr().out))
    assert (header["name"], header["size"]) == ("passwd", len("root:x:0:0::/:/bin/sh\n"))


def test_the_archive_child_exits_not_found_for_a_missing_path(
    rootfs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert archive_view.main(["stat", str(rootfs), "/absent", "[]"]) == VIEW_NOT_FOUND
    assert "Could not find the file /absent" in capsys.readouterr().err


def test_the_archive_child_refuses_to_extract_onto_a_file(
    rootfs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert archive_view.main(["extract", str(rootfs), "/etc/passwd", "[]"]) == VIEW_INVALID
    assert "extraction point is not a directory" in capsys.readouterr().err
