"""The v1 backend on this host's real cgroup v1 hierarchies, with a real process inside.

Every test works under its own /porter-test-<random> parent, removed afterwards even
when the test fails; the sleeping process is killed first so the rmdir can succeed.
"""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest
from host_features import missing_v1_controller, missing_v1_file, needs
from porter_runtime.cgroups import files
from porter_runtime.cgroups.base import CgroupError, rmdir_bounded
from porter_runtime.cgroups.paths import is_unified, v1_mounts
from porter_runtime.cgroups.v1 import CgroupV1Manager

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(is_unified() or not v1_mounts(), reason="host has no cgroup v1"),
]

MOUNTS = v1_mounts() if os.geteuid() == 0 else {}


def read(manager, controller, name):
    return files.read(manager.dirs[controller], name)


class Box:
    """A manager plus a sleeping process, for one test."""

    def __init__(self, path: str) -> None:
        self.manager = CgroupV1Manager(path)
        self.proc = subprocess.Popen(["sleep", "120"])

    def close(self) -> None:
        try:
            if self.manager.state() == "paused":
                self.manager.thaw()
        finally:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def parent():
    """A unique top-level cgroup name, removed from every hierarchy afterwards."""
    name = f"/porter-test-{secrets.token_hex(4)}"
    yield name
    for mountpoint in set(MOUNTS.values()):
        rmdir_bounded(os.path.join(mountpoint, name.lstrip("/")))


@pytest.fixture
def box(parent):
    b = Box(f"{parent}/ctr")
    yield b
    b.close()


@pytest.fixture
def applied(box):
    box.manager.apply(box.proc.pid)
    return box


def test_apply_moves_the_process_into_every_mounted_hierarchy(applied):
    with open(f"/proc/{applied.proc.pid}/cgroup") as f:
        lines = f.read().splitlines()
    for controller in MOUNTS:
        if controller == "":
            assert f"0::{applied.manager.path}" in lines
        else:
            assert any(
                controller in line.split(":")[1].split(",")
                and line.endswith(":" + applied.manager.path)
                for line in lines
            ), controller


@needs(missing_v1_controller("name=systemd"))
def test_named_hierarchy_gets_its_directory(applied):
    assert os.path.isdir(applied.manager.dirs["name=systemd"])


@needs(missing_v1_controller("memory"))
def test_memory_limits_are_written(applied):
    applied.manager.set({"memory": {"limit": 64 << 20, "reservation": 32 << 20, "swappiness": 10}})
    m = applied.manager
    assert read(m, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert read(m, "memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert read(m, "memory", "memory.swappiness") == "10"


@needs(missing_v1_file("memory", "memory.memsw.limit_in_bytes"))
def test_memory_swap_is_written_to_memsw(applied):
    applied.manager.set({"memory": {"limit": 64 << 20, "swap": 96 << 20}})
    assert read(applied.manager, "memory", "memory.memsw.limit_in_bytes") == str(96 << 20)


@needs(missing_v1_controller("memory"))
def test_disable_oom_killer_is_set(applied):
    applied.manager.set({"memory": {"disableOOMKiller": True}})
    assert "oom_kill_disable 1" in read(applied.manager, "memory", "memory.oom_control")


@needs(missing_v1_file("memory", "memory.kmem.tcp.limit_in_bytes"))
def test_kernel_tcp_limit_is_set_and_kernel_limit_ignored(applied):
    applied.manager.set({"memory": {"kernel": 1 << 30, "kernelTCP": 16 << 20}})
    assert read(applied.manager, "memory", "memory.kmem.tcp.limit_in_bytes") == str(16 << 20)


@needs(missing_v1_file("memory", "memory.memsw.limit_in_bytes"))
def test_swap_below_memory_is_refused_by_the_kernel(applied):
    with pytest.raises(CgroupError, match="memsw"):
        applied.manager.set({"memory": {"limit": 64 << 20, "swap": 32 << 20}})


@needs(missing_v1_file("cpu", "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"))
def test_cpu_shares_quota_and_period_are_written(applied):
    applied.manager.set({"cpu": {"shares": 512, "quota": 20000, "period": 50000}})
    m = applied.manager
    assert read(m, "cpu", "cpu.shares") == "512"
    assert read(m, "cpu", "cpu.cfs_quota_us") == "20000"
    assert read(m, "cpu", "cpu.cfs_period_us") == "50000"


@needs(missing_v1_file("cpu", "cpu.cfs_burst_us", "cpu.idle"))
def test_cpu_burst_and_idle_are_written(applied):
    applied.manager.set({"cpu": {"quota": 20000, "period": 50000, "burst": 1000, "idle": 1}})
    assert (
        read(applied.manager, "cpu", "cpu.cfs_burst_us"),
        read(applied.manager, "cpu", "cpu.idle"),
    ) == ("1000", "1")


@needs(missing_v1_file("cpu", "cpu.rt_period_us", "cpu.rt_runtime_us"))
def test_realtime_budget_is_written(parent):
    box = Box(parent)  # directly below the root, which holds the real-time budget
    try:
        box.manager.set({"cpu": {"realtimePeriod": 100000, "realtimeRuntime": 1000}})
        box.manager.apply(box.proc.pid)
        assert read(box.manager, "cpu", "cpu.rt_runtime_us") == "1000"
    finally:
        box.close()


@needs(missing_v1_controller("cpuset"))
def test_cpuset_cpus_and_mems_are_written(applied):
    applied.manager.set({"cpu": {"cpus": "0", "mems": "0"}})
    assert read(applied.manager, "cpuset", "cpuset.cpus") == "0"
    assert read(applied.manager, "cpuset", "cpuset.mems") == "0"


@needs(missing_v1_controller("cpuset"))
def test_cpuset_is_initialised_from_the_parent(applied):
    root = MOUNTS["cpuset"]
    assert read(applied.manager, "cpuset", "cpuset.cpus") == files.read(root, "cpuset.cpus")
    assert read(applied.manager, "cpuset", "cpuset.mems") == files.read(root, "cpuset.mems")


@needs(missing_v1_controller("pids"))
def test_pids_limit_is_written(applied):
    applied.manager.set({"pids": {"limit": 42}})
    assert read(applied.manager, "pids", "pids.max") == "42"


def first_disk() -> tuple[int, int]:
    with open("/proc/partitions") as f:
        disks = [line.split() for line in f.read().splitlines()[2:] if line.split()]
    if not disks:
        pytest.skip("no block device on this host to throttle")
    return int(disks[0][0]), int(disks[0][1])


BLKIO_WEIGHT = "blkio.weight|blkio.bfq.weight"  # the legacy (CFQ) file or BFQ's


@needs(missing_v1_file("blkio", BLKIO_WEIGHT))
def test_blkio_weight_is_written(applied):
    applied.manager.set({"blockIO": {"weight": 300}})
    d = applied.manager.dirs["blkio"]
    weight = "blkio.bfq.weight" if files.exists(d, "blkio.bfq.weight") else "blkio.weight"
    assert files.read(d, weight).split()[-1] == "300"


@needs(missing_v1_file("blkio", "blkio.throttle.read_bps_device"))
def test_blkio_throttle_is_written(applied):
    major, minor = first_disk()
    rule = {"major": major, "minor": minor, "rate": 1 << 20}
    applied.manager.set({"blockIO": {"throttleReadBpsDevice": [rule]}})
    d = applied.manager.dirs["blkio"]
    assert files.read(d, "blkio.throttle.read_bps_device") == f"{major}:{minor} {1 << 20}"


@needs(missing_v1_controller("blkio"))
def test_blkio_weight_the_kernel_lacks_is_an_error_naming_the_file(applied):
    if missing_v1_file("blkio", BLKIO_WEIGHT) is None:
        pytest.skip("this kernel has a blkio weight file")
    with pytest.raises(CgroupError, match=r"blkio\.weight: .*not supported here"):
        applied.manager.set({"blockIO": {"weight": 300}})


@needs(missing_v1_controller("devices"))
def test_device_rules_become_the_devices_list(applied):
    rules = [{"allow": False}, {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}]
    applied.manager.set({"devices": rules})
    assert read(applied.manager, "devices", "devices.list") == "c 1:3 rw"


@needs(missing_v1_controller("freezer"))
def test_freeze_stops_the_process_and_thaw_resumes_it(applied):
    applied.manager.freeze()
    assert applied.manager.state() == "paused"
    assert read(applied.manager, "freezer", "freezer.state") == "FROZEN"
    applied.manager.thaw()
    assert applied.manager.state() == "running"
    assert read(applied.manager, "freezer", "freezer.state") == "THAWED"


@needs(missing_v1_controller("pids", "memory"))
def test_update_changes_limits_live(applied):
    applied.manager.set({"pids": {"limit": 10}, "memory": {"limit": 64 << 20}})
    applied.manager.set({"pids": {"limit": 20}, "memory": {"limit": 128 << 20}})
    assert read(applied.manager, "pids", "pids.max") == "20"
    assert read(applied.manager, "memory", "memory.limit_in_bytes") == str(128 << 20)


def test_pids_lists_the_process(applied):
    assert applied.manager.pids() == [applied.proc.pid]
    assert not applied.manager.is_empty()


@needs(missing_v1_controller("pids", "memory", "cpuacct"))
def test_stats_have_runcs_shape_and_live_values(applied):
    applied.manager.set({"pids": {"limit": 7}, "memory": {"limit": 64 << 20}})
    stats = applied.manager.stats()
    assert stats["pids"] == {"current": 1, "limit": 7}
    assert stats["memory"]["usage"]["limit"] == 64 << 20
    assert len(stats["cpu"]["usage"]["percpu"]) == os.cpu_count()
    assert set(stats["cpu"]["throttling"]) == {"periods", "throttledPeriods", "throttledTime"}
    assert "raw" in stats["memory"] and "ioServiceBytesRecursive" in stats["blkio"]


def test_destroy_removes_every_directory_and_is_idempotent(applied):
    applied.proc.kill()
    applied.proc.wait()
    applied.manager.destroy()
    applied.manager.destroy()
    assert not any(os.path.exists(d) for d in applied.manager.dirs.values())
