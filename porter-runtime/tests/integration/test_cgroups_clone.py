"""fork_into: a child cloned straight into a real cgroup v2 directory, or a plain fork."""

from __future__ import annotations

import os
import secrets

import pytest
from porter_runtime.cgroups.base import rmdir_bounded
from porter_runtime.cgroups.clone import fork_into
from porter_runtime.cgroups.paths import cgroup2_mount

MOUNT = cgroup2_mount()

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(MOUNT is None, reason="no cgroup2 mount"),
]


@pytest.fixture
def cgroup_dir():
    name = f"porter-test-{secrets.token_hex(4)}"
    path = os.path.join(MOUNT, name)
    os.mkdir(path)
    yield f"/{name}", path
    rmdir_bounded(path)


def _child_cgroup(directory: str | None) -> tuple[bool, str]:
    """Fork with fork_into; the child reports its cgroup v2 line through a pipe."""
    read_end, write_end = os.pipe()
    pid, placed = fork_into(directory)
    if pid == 0:  # pragma: no cover - child
        try:
            with open("/proc/self/cgroup") as f:
                line = next(x for x in f if x.startswith("0::"))
            os.write(write_end, line.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as f:
            line = f.read().decode()
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return placed, line.strip()


def test_the_child_starts_in_the_cgroup_and_the_parent_stays(cgroup_dir):
    name, path = cgroup_dir
    with open("/proc/self/cgroup") as f:
        before = f.read()
    placed, line = _child_cgroup(path)
    assert placed
    assert line == f"0::{name}"
    with open("/proc/self/cgroup") as f:
        assert f.read() == before


def test_no_directory_is_a_plain_fork():
    with open("/proc/self/cgroup") as f:
        own = next(x for x in f if x.startswith("0::")).strip()
    assert _child_cgroup(None) == (False, own)


def test_a_missing_directory_falls_back_to_a_plain_fork(tmp_path):
    placed, _ = _child_cgroup(str(tmp_path / "absent"))
    assert not placed


def test_a_directory_outside_cgroupfs_falls_back_to_a_plain_fork(tmp_path):
    placed, _ = _child_cgroup(str(tmp_path))
    assert not placed
