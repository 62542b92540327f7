"""The v2 backend against a directory that mimics cgroupfs: which files get what."""

from __future__ import annotations

import sys

import pytest
from porter_runtime.cgroups.base import CgroupError
from porter_runtime.cgroups.v2 import CgroupV2Manager
from porter_runtime.cgroups.v2_resources import (
    blkio_weight_to_io_weight,
    shares_to_weight,
    swap_to_v2,
)

CONTROLLERS = "cpuset cpu io memory hugetlb pids"
LEAF_FILES = [
    "cgroup.procs", "cgroup.freeze", "cgroup.events", "cgroup.kill",
    "memory.max", "memory.low", "memory.swap.max", "cpu.weight", "cpu.max", "cpu.max.burst",
    "cpu.idle", "cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "io.max",
    "hugetlb.2MB.max", "memory.oom.group",
]  # fmt: skip


@pytest.fixture
def fake(tmp_path):
    """A cgroup2 root with /porter/c1 below it, as the kernel would populate them."""
    for level in (tmp_path, tmp_path / "porter", tmp_path / "porter" / "c1"):
        level.mkdir(exist_ok=True)
        (level / "cgroup.controllers").write_text(CONTROLLERS + "\n")
        (level / "cgroup.subtree_control").write_text("")
    for name in LEAF_FILES:
        (tmp_path / "porter" / "c1" / name).write_text("")
    return CgroupV2Manager("/porter/c1", mountpoint=str(tmp_path)), tmp_path / "porter" / "c1"


def read(leaf, name):
    return (leaf / name).read_text().strip()


def test_apply_enables_every_offered_controller_on_each_ancestor(fake, tmp_path):
    manager, _ = fake
    manager.apply(4242)
    expected = " ".join("+" + c for c in CONTROLLERS.split())
    assert (tmp_path / "cgroup.subtree_control").read_text() == expected
    assert (tmp_path / "porter" / "cgroup.subtree_control").read_text() == expected


def test_apply_writes_the_pid_to_cgroup_procs(fake):
    manager, leaf = fake
    manager.apply(4242)
    assert read(leaf, "cgroup.procs") == "4242"


def test_join_self_writes_cgroup_procs_only_when_not_cloned_into_it(fake):
    manager, leaf = fake
    assert manager.clone_target() == str(leaf)
    manager.join_self(placed=True)
    assert read(leaf, "cgroup.procs") == ""
    manager.join_self(placed=False)
    assert read(leaf, "cgroup.procs") == "0"


def test_memory_limit_goes_to_memory_max(fake):
    manager, leaf = fake
    manager.set({"memory": {"limit": 1 << 20}})
    assert read(leaf, "memory.max") == str(1 << 20)


def test_unlimited_memory_is_written_as_max(fake):
    manager, leaf = fake
    manager.set({"memory": {"limit": -1}})
    assert read(leaf, "memory.max") == "max"
    assert read(leaf, "memory.swap.max") == "max"


def test_swap_max_is_memsw_minus_memory(fake):
    manager, leaf = fake
    manager.set({"memory": {"limit": 100 << 20, "swap": 300 << 20}})
    assert read(leaf, "memory.swap.max") == str(200 << 20)


def test_swap_equal_to_memory_disables_swap(fake):
    manager, leaf = fake
    manager.set({"memory": {"limit": 100 << 20, "swap": 100 << 20}})
    assert read(leaf, "memory.swap.max") == "0"


def test_reservation_goes_to_memory_low(fake):
    manager, leaf = fake
    manager.set({"memory": {"reservation": 4096}})
    assert read(leaf, "memory.low") == "4096"


def test_shares_become_cpu_weight(fake):
    manager, leaf = fake
    manager.set({"cpu": {"shares": 1024}})
    assert read(leaf, "cpu.weight") == "39"


def test_quota_and_period_become_cpu_max(fake):
    manager, leaf = fake
    manager.set({"cpu": {"quota": 50000, "period": 100000}})
    assert read(leaf, "cpu.max") == "50000 100000"


def test_period_alone_keeps_quota_unlimited(fake):
    manager, leaf = fake
    manager.set({"cpu": {"period": 200000}})
    assert read(leaf, "cpu.max") == "max 200000"


def test_cpus_and_mems_go_to_cpuset(fake):
    manager, leaf = fake
    manager.set({"cpu": {"cpus": "0-1", "mems": "0"}})
    assert (read(leaf, "cpuset.cpus"), read(leaf, "cpuset.mems")) == ("0-1", "0")


def test_negative_pids_limit_is_max(fake):
    manager, leaf = fake
    manager.set({"pids": {"limit": -1}})
    assert read(leaf, "pids.max") == "max"


def test_blkio_weight_is_converted_to_io_weight(fake):
    manager, leaf = fake
    manager.set({"blockIO": {"weight": 500}})
    assert read(leaf, "io.weight") == str(blkio_weight_to_io_weight(500))


def test_throttle_becomes_an_io_max_line(fake):
    manager, leaf = fake
    manager.set({"blockIO": {"throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 7}]}})
    assert read(leaf, "io.max") == "8:0 wiops=7"


def test_hugepage_limit_goes_to_hugetlb_size_max(fake):
    manager, leaf = fake
    manager.set({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]})
    assert read(leaf, "hugetlb.2MB.max") == "4194304"


def test_unified_values_are_written_verbatim(fake):
    manager, leaf = fake
    manager.set({"unified": {"memory.oom.group": "1"}})
    assert read(leaf, "memory.oom.group") == "1"


def test_unified_values_win_over_converted_ones(fake):
    manager, leaf = fake
    manager.set({"memory": {"limit": 1000}, "unified": {"memory.max": "2000"}})
    assert read(leaf, "memory.max") == "2000"


def test_unified_key_naming_no_file_is_refused(fake):
    manager, _ = fake
    with pytest.raises(CgroupError, match="rdma controller enabled"):
        manager.set({"unified": {"rdma.max": "x"}})


@pytest.mark.parametrize("key", ["../escape.max", "cgroup.procs", "memory"])
def test_unified_key_that_is_not_a_controller_file_is_refused(fake, key):
    manager, _ = fake
    with pytest.raises(CgroupError, match="not the name of a controller file"):
        manager.set({"unified": {key: "1"}})


def test_realtime_is_refused_on_v2(fake):
    manager, _ = fake
    with pytest.raises(CgroupError, match="real-time"):
        manager.set({"cpu": {"realtimeRuntime": 1000}})


def test_network_classes_are_refused_on_v2(fake):
    manager, _ = fake
    with pytest.raises(CgroupError, match="net_cls"):
        manager.set({"network": {"classID": 1}})


def test_missing_controller_file_names_the_file(fake):
    manager, leaf = fake
    (leaf / "pids.max").unlink()
    with pytest.raises(CgroupError, match=r"pids\.max.*not supported here"):
        manager.set({"pids": {"limit": 5}})


def test_freeze_writes_cgroup_freeze_and_waits_for_events(fake):
    manager, leaf = fake
    (leaf / "cgroup.events").write_text("populated 1\nfrozen 1\n")
    manager.freeze()
    assert manager.state() == "paused"


def test_freeze_that_never_completes_times_out_and_thaws(fake, monkeypatch):
    manager, leaf = fake
    (leaf / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    monkeypatch.setattr("porter_runtime.cgroups.freezer.FREEZE_TIMEOUT", 0.05)
    with pytest.raises(CgroupError, match="not done after"):
        manager.freeze()
    assert read(leaf, "cgroup.freeze") == "0"


def test_stats_read_cpu_memory_pids_and_io(fake):
    manager, leaf = fake
    (leaf / "cpu.stat").write_text("usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_throttled 1\n")
    (leaf / "memory.current").write_text("100\n")
    (leaf / "memory.max").write_text("max\n")
    (leaf / "memory.stat").write_text("file 7\nanon 9\n")
    (leaf / "pids.current").write_text("3\n")
    (leaf / "pids.max").write_text("max\n")
    (leaf / "io.stat").write_text("8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n")
    stats = manager.stats()
    assert stats["cpu"]["usage"] | {"percpu": None} == {
        "total": 5000, "user": 3000, "kernel": 2000, "percpu": None,
        "percpu_kernel": [], "percpu_user": [],
    }  # fmt: skip
    assert stats["cpu"]["throttling"]["throttledPeriods"] == 1
    assert stats["memory"]["usage"]["usage"] == 100
    assert stats["memory"]["cache"] == 7 and stats["memory"]["raw"]["anon"] == 9
    assert stats["pids"] == {"current": 3, "limit": 0}
    assert {"major": 8, "minor": 0, "op": "Write", "value": 20} in stats["blkio"][
        "ioServiceBytesRecursive"
    ]


def test_shares_conversion_matches_runc():
    assert [shares_to_weight(s) for s in (0, 2, 1024, 262144)] == [0, 1, 39, 10000]


def test_blkio_weight_conversion_matches_runc():
    assert [blkio_weight_to_io_weight(w) for w in (0, 10, 1000)] == [0, 1, 10000]


@pytest.mark.parametrize(
    "swap, memory, expected",
    [(0, -1, -1), (-1, 100, -1), (0, 100, 0), (300, 100, 200)],
)
def test_swap_conversion_matches_runc(swap, memory, expected):
    assert swap_to_v2(swap, memory, "/c") == expected


@pytest.mark.parametrize(
    "swap, memory, message",
    [(300, 0, "needs a memory limit"), (50, 100, "below memory")],
)
def test_impossible_swap_is_refused(swap, memory, message):
    with pytest.raises(CgroupError, match=message):
        swap_to_v2(swap, memory, "/c")


def test_set_after_create_enables_no_controller_again(fake, tmp_path):
    """create() then set(), as create does: the controllers are enabled on the way down
    once, by create()."""
    manager, _ = fake
    manager.create()
    for level in (tmp_path, tmp_path / "porter"):
        (level / "cgroup.subtree_control").write_text("")
    manager.set({"pids": {"limit": 10}})
    assert read(tmp_path, "cgroup.subtree_control") == ""
    assert read(tmp_path / "porter", "cgroup.subtree_control") == ""


def test_loading_the_setters_of_device_rules_imports_the_bpf_installer(fake, monkeypatch):
    """set() installs device rules as a BPF program: create imports it before the fork."""
    import porter_runtime.cgroups

    manager, _ = fake
    monkeypatch.delattr(porter_runtime.cgroups, "devices_bpf", raising=False)
    monkeypatch.delitem(sys.modules, "porter_runtime.cgroups.devices_bpf", raising=False)
    manager.load_setters({"devices": [{"allow": False, "access": "rwm"}]})
    assert "porter_runtime.cgroups.devices_bpf" in sys.modules


def test_set_imports_nothing_once_its_setters_are_loaded(fake, monkeypatch):
    """create loads them before it forks the init, where an import would copy pages."""
    import porter_runtime.cgroups

    manager, leaf = fake
    monkeypatch.delattr(porter_runtime.cgroups, "devices_bpf", raising=False)
    monkeypatch.delitem(sys.modules, "porter_runtime.cgroups.devices_bpf", raising=False)
    resources = {
        "memory": {"limit": 1 << 20},
        "pids": {"limit": 10},
        "devices": [{"allow": False, "access": "rwm"}],
    }
    manager.load_setters(resources)
    before = set(sys.modules)
    bpf = sys.modules.get("porter_runtime.cgroups.devices_bpf")
    assert bpf is not None, "load_setters left the BPF installer for set() to import"
    installed = []  # a BPF program needs a real cgroup: record where set() installs it
    monkeypatch.setattr(bpf, "install_policy", lambda policy, path: installed.append(path))
    manager.set(resources)
    assert set(sys.modules) - before == set()
    assert installed == [str(leaf)]
