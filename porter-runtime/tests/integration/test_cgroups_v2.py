"""The v2 backend on a real cgroup2 hierarchy.

On a v2 host that is /sys/fs/cgroup; on this project's hybrid CI host it is the
controller-less cgroup2 mount at /sys/fs/cgroup/unified, where creating cgroups,
moving processes, cgroup.freeze, cgroup.kill, eBPF device programs and (when it is
not bound to v1) hugetlb all work for real.
"""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest
from host_features import missing_kernel, needs
from porter_runtime.cgroups import files
from porter_runtime.cgroups.base import CgroupError, rmdir_bounded
from porter_runtime.cgroups.clone import clone, fork_into
from porter_runtime.cgroups.paths import cgroup2_mount
from porter_runtime.cgroups.v2 import CgroupV2Manager

MOUNT = cgroup2_mount()

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(MOUNT is None, reason="no cgroup2 mount"),
]


@pytest.fixture
def parent():
    name = f"/porter-test-{secrets.token_hex(4)}"
    yield name
    rmdir_bounded(os.path.join(MOUNT, name.lstrip("/")))


@pytest.fixture
def box(parent):
    """A manager with a sleeping process inside; the process is gone before cleanup."""
    manager = CgroupV2Manager(f"{parent}/ctr", mountpoint=MOUNT)
    proc = subprocess.Popen(["sleep", "120"])
    manager.apply(proc.pid)
    yield manager, proc
    if files.read_or(manager.dir, "cgroup.freeze") == "1":
        manager.thaw()
    proc.kill()
    proc.wait()


def test_apply_moves_the_process_in(box):
    manager, proc = box
    with open(f"/proc/{proc.pid}/cgroup") as f:
        assert f"0::{manager.path}\n" in f.read()
    assert manager.pids() == [proc.pid]


def test_freeze_reports_frozen_and_thaw_undoes_it(box):
    manager, _ = box
    manager.freeze()
    assert manager.state() == "paused"
    assert files.read_keyed(manager.dir, "cgroup.events")["frozen"] == 1
    manager.thaw()
    assert manager.state() == "running"


def test_kill_ends_every_process_in_the_cgroup(box):
    manager, proc = box
    manager.kill()
    assert proc.wait(timeout=10) == -9


def test_destroy_removes_the_directory_and_is_idempotent(box):
    manager, proc = box
    proc.kill()
    proc.wait()
    manager.destroy()
    manager.destroy()
    assert not os.path.exists(manager.dir)


def test_stats_have_runcs_shape(box):
    manager, _ = box
    stats = manager.stats()
    assert set(stats) >= {"cpu", "memory", "pids", "blkio", "hugetlb"}
    assert set(stats["cpu"]["usage"]) >= {"total", "kernel", "user", "percpu"}


ALLOW_NULL = [{"allow": False}, {"allow": True, "type": "c", "major": 1, "minor": 3}]


def test_updating_devices_replaces_the_program(parent):
    from porter_runtime.cgroups.devices_bpf import attached_programs

    manager = CgroupV2Manager(f"{parent}/dev", mountpoint=MOUNT)
    manager.set({"devices": ALLOW_NULL})
    manager.set({"devices": [{"allow": True}]})
    fd = os.open(manager.dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert len(attached_programs(fd, manager.dir)) == 1
    finally:
        os.close(fd)


def _hugetlb_size(manager):
    names = [n for n in os.listdir(manager.dir) if n.startswith("hugetlb.")]
    sizes = sorted({n.split(".")[1] for n in names if n.endswith(".max")})
    return "2MB" if "2MB" in sizes else (sizes[0] if sizes else None)


def test_hugepage_limit_is_written(box):
    manager, _ = box
    size = _hugetlb_size(manager)
    if size is None:
        pytest.skip("hugetlb controller not available on this cgroup2 hierarchy")
    manager.set({"hugepageLimits": [{"pageSize": size, "limit": 4 << 20}]})
    assert files.read(manager.dir, f"hugetlb.{size}.max") == str(4 << 20)


def test_unified_value_is_written_verbatim(box):
    manager, _ = box
    size = _hugetlb_size(manager)
    if size is None:
        pytest.skip("no controller file to write on this cgroup2 hierarchy")
    manager.set({"unified": {f"hugetlb.{size}.max": "2097152"}})
    assert files.read(manager.dir, f"hugetlb.{size}.max") == "2097152"


def test_limit_for_a_missing_controller_names_the_file(box):
    manager, _ = box
    if files.exists(manager.dir, "pids.max"):
        pytest.skip("pids controller available here")
    with pytest.raises(CgroupError, match=r"pids\.max.*not supported here"):
        manager.set({"pids": {"limit": 5}})


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


def test_fork_into_starts_the_child_in_the_cgroup_and_the_parent_stays(parent):
    name, path = parent, os.path.join(MOUNT, parent.lstrip("/"))
    os.mkdir(path)
    with open("/proc/self/cgroup") as f:
        before = f.read()
    placed, line = _child_cgroup(path)
    assert placed
    assert line == f"0::{name}"
    with open("/proc/self/cgroup") as f:
        assert f.read() == before


def test_fork_into_no_directory_is_a_plain_fork():
    with open("/proc/self/cgroup") as f:
        own = next(x for x in f if x.startswith("0::")).strip()
    assert _child_cgroup(None) == (False, own)


def test_fork_into_a_missing_directory_falls_back_to_a_plain_fork(tmp_path):
    placed, _ = _child_cgroup(str(tmp_path / "absent"))
    assert not placed


def test_fork_into_a_directory_outside_cgroupfs_falls_back_to_a_plain_fork(tmp_path):
    placed, _ = _child_cgroup(str(tmp_path))
    assert not placed


@needs(missing_kernel((5, 7), "clone3 with CLONE_INTO_CGROUP"))
def test_clone_starts_the_child_in_new_namespaces_and_its_cgroup(parent):
    path = os.path.join(MOUNT, parent.lstrip("/"))
    os.mkdir(path)
    read_end, write_end = os.pipe()
    pid, placed = clone(0x20000000 | 0x04000000, path)  # CLONE_NEWPID | CLONE_NEWUTS
    if pid == 0:  # pragma: no cover - child
        try:
            with open("/proc/self/cgroup") as f:
                line = next(x for x in f if x.startswith("0::"))
            os.write(write_end, f"{os.getpid()} {line}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as f:
            reported = f.read().decode().split()
    finally:
        os.waitpid(pid, 0)
    assert placed
    assert reported == ["1", f"0::{parent}"]  # pid 1 of its own pid namespace


def test_clone_that_the_kernel_refuses_returns_minus_one():
    assert clone(0x10000000 | 0x00000200, None) == (-1, False)  # NEWUSER with FS: EINVAL
