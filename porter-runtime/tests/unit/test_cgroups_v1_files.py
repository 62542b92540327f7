"""The v1 backend against directories that mimic per-controller cgroupfs mounts."""

from __future__ import annotations

import os
import sys

import pytest
from porter_runtime.cgroups import cgroup_manager, files, load_cgroup_manager, paths
from porter_runtime.cgroups.base import CgroupError
from porter_runtime.cgroups.v1 import CgroupV1Manager

FILES = {
    "memory": ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.swappiness",
               "memory.soft_limit_in_bytes", "memory.oom_control", "memory.usage_in_bytes"],
    "cpu": ["cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"],
    "cpuset": ["cpuset.cpus", "cpuset.mems"],
    "pids": ["pids.max", "pids.current"],
    "devices": ["devices.allow", "devices.deny"],
    "freezer": ["freezer.state"],
    "blkio": ["blkio.weight", "blkio.throttle.read_bps_device"],
    "name=systemd": [],
}  # fmt: skip


@pytest.fixture
def fake(tmp_path):
    """One mount per controller, with /ctr already populated as the kernel would."""
    mounts = {}
    for controller, names in FILES.items():
        root = tmp_path / controller.replace("=", "-")
        leaf = root / "ctr"
        leaf.mkdir(parents=True)
        for name in ["cgroup.procs", "tasks", *names]:
            (leaf / name).write_text("")
        mounts[controller] = str(root)
    for level in (tmp_path / "cpuset", tmp_path / "cpuset" / "ctr"):
        (level / "cpuset.cpus").write_text("0-3\n")
        (level / "cpuset.mems").write_text("0\n")
    return CgroupV1Manager("/ctr", mounts=mounts), tmp_path


@pytest.fixture
def writes(monkeypatch):
    """Every (file, value) written, in order, on top of really writing it."""
    log: list[tuple[str, str]] = []
    real = files.write

    def record(directory, name, value):
        log.append((name, str(value)))
        real(directory, name, value)

    monkeypatch.setattr(files, "write", record)
    return log


def test_apply_joins_every_hierarchy_including_named_ones(fake):
    manager, root = fake
    manager.apply(99)
    for controller in FILES:
        assert (root / controller.replace("=", "-") / "ctr" / "cgroup.procs").read_text() == "99"


def test_join_self_moves_the_caller_through_each_hierarchys_tasks_file(fake, writes):
    manager, _ = fake
    manager.join_self(placed=False)
    assert writes == [("tasks", "0")] * len(manager._unique_dirs())


def test_join_self_writes_the_unified_procs_unless_cloned_there(tmp_path, writes):
    mounts = {}
    for controller, name in (("pids", "tasks"), ("", "cgroup.procs")):
        leaf = tmp_path / (controller or "unified") / "ctr"
        leaf.mkdir(parents=True)
        (leaf / name).write_text("")
        mounts[controller] = str(leaf.parent)
    manager = CgroupV1Manager("/ctr", mounts=mounts)
    assert manager.clone_target() == str(tmp_path / "unified" / "ctr")
    manager.join_self(placed=True)
    assert writes == [("tasks", "0")]
    manager.join_self(placed=False)
    assert writes[1:] == [("tasks", "0"), ("cgroup.procs", "0")]


def test_new_cpuset_is_filled_from_its_parent(fake):
    manager, root = fake
    for name in ("cpuset.cpus", "cpuset.mems"):
        (root / "cpuset" / "ctr" / name).write_text("")  # as the kernel creates them
    manager.apply(1)
    assert (root / "cpuset" / "ctr" / "cpuset.cpus").read_text() == "0-3"
    assert (root / "cpuset" / "ctr" / "cpuset.mems").read_text() == "0"


def test_raising_memory_and_swap_writes_memsw_first(fake, writes):
    manager, root = fake
    (root / "memory" / "ctr" / "memory.memsw.limit_in_bytes").write_text("1000\n")
    manager.set({"memory": {"limit": 2000, "swap": 4000}})
    assert writes[:2] == [
        ("memory.memsw.limit_in_bytes", "4000"),
        ("memory.limit_in_bytes", "2000"),
    ]


def test_lowering_memory_and_swap_writes_the_limit_first(fake, writes):
    manager, root = fake
    (root / "memory" / "ctr" / "memory.memsw.limit_in_bytes").write_text("9000\n")
    manager.set({"memory": {"limit": 2000, "swap": 4000}})
    assert writes[:2] == [
        ("memory.limit_in_bytes", "2000"),
        ("memory.memsw.limit_in_bytes", "4000"),
    ]


def test_unlimited_memory_also_unlimits_swap(fake, writes):
    manager, _ = fake
    manager.set({"memory": {"limit": -1}})
    assert ("memory.memsw.limit_in_bytes", "-1") in writes


def test_swap_without_swap_accounting_is_refused(fake):
    manager, root = fake
    (root / "memory" / "ctr" / "memory.memsw.limit_in_bytes").unlink()
    with pytest.raises(CgroupError, match="swap accounting"):
        manager.set({"memory": {"limit": 1000, "swap": 2000}})


def test_swappiness_above_100_is_refused(fake):
    manager, _ = fake
    with pytest.raises(CgroupError, match=r"swappiness: 101 is not within 0\.\.100"):
        manager.set({"memory": {"swappiness": 101}})


def test_disable_oom_killer_writes_oom_control(fake, writes):
    manager, _ = fake
    manager.set({"memory": {"disableOOMKiller": True}})
    assert writes == [("memory.oom_control", "1")]


def test_negative_pids_limit_writes_max(fake, writes):
    manager, _ = fake
    manager.set({"pids": {"limit": -1}})
    assert writes == [("pids.max", "max")]


def test_default_deny_devices_writes_a_then_allows(fake, writes):
    manager, _ = fake
    manager.set(
        {"devices": [{"allow": False}, {"allow": True, "type": "c", "major": 1, "minor": 3}]}
    )
    assert writes == [("devices.deny", "a"), ("devices.allow", "c 1:3 rwm")]


def test_throttle_device_line_is_major_minor_rate(fake, writes):
    manager, _ = fake
    rule = {"major": 8, "minor": 0, "rate": 1024}
    manager.set({"blockIO": {"throttleReadBpsDevice": [rule]}})
    assert writes == [("blkio.throttle.read_bps_device", "8:0 1024")]


def test_blkio_weight_the_kernel_lacks_is_refused_naming_the_file(fake):
    """A kernel without BFQ and without CFQ's file: the weight is an error, never dropped."""
    manager, root = fake
    (root / "blkio" / "ctr" / "blkio.weight").unlink()
    with pytest.raises(CgroupError, match=r"blkio\.weight: .*not supported here"):
        manager.set({"blockIO": {"weight": 300}})


def test_blkio_weight_goes_to_bfqs_file_where_the_kernel_has_it(fake, writes):
    manager, root = fake
    (root / "blkio" / "ctr" / "blkio.weight").unlink()
    (root / "blkio" / "ctr" / "blkio.bfq.weight").write_text("")
    manager.set({"blockIO": {"weight": 300}})
    assert writes == [("blkio.bfq.weight", "300")]


def test_unified_resources_on_v1_are_refused(fake):
    manager, _ = fake
    with pytest.raises(CgroupError, match="unified resources need cgroup v2"):
        manager.set({"unified": {"memory.max": "1"}})


def test_limit_for_an_unmounted_controller_is_refused(fake):
    manager, _ = fake
    with pytest.raises(CgroupError, match="hugetlb: controller not mounted"):
        manager.set({"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]})


def test_rootless_skips_an_unmounted_controller(fake):
    manager, _ = fake
    manager.rootless = True
    manager.set({"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]})


def test_freeze_without_freezer_is_a_clear_error(tmp_path):
    manager = CgroupV1Manager("/ctr", mounts={"pids": str(tmp_path)})
    with pytest.raises(CgroupError, match="freezer: controller not mounted"):
        manager.freeze()


def test_state_is_paused_when_freezer_reports_frozen(fake):
    manager, root = fake
    (root / "freezer" / "ctr" / "freezer.state").write_text("FROZEN\n")
    assert manager.state() == "paused"


def test_pids_and_is_empty_read_cgroup_procs(fake):
    manager, root = fake
    (root / "pids" / "ctr" / "cgroup.procs").write_text("1\n2\n")
    assert manager.pids() == [1, 2] and not manager.is_empty()


def test_stats_of_missing_controllers_are_zero(tmp_path):
    manager = CgroupV1Manager("/ctr", mounts={"name=systemd": str(tmp_path)})
    stats = manager.stats()
    assert stats["memory"]["usage"] == {"limit": 0, "usage": 0, "max": 0, "failcnt": 0}
    assert set(stats) >= {"cpu", "memory", "pids", "blkio", "hugetlb"}


def test_set_after_create_makes_no_directory_again(fake, monkeypatch):
    """create() then set(), as create does: the directories are made once."""
    manager, _ = fake
    manager.create()
    made = []
    monkeypatch.setattr(os, "mkdir", lambda path, *a, **kw: made.append(path))
    monkeypatch.setattr(os, "makedirs", lambda path, *a, **kw: made.append(path))
    manager.set({"pids": {"limit": 10}})
    assert made == []


def test_create_makes_the_missing_levels_above_the_container(tmp_path):
    (tmp_path / "pids").mkdir()
    manager = CgroupV1Manager("/a/b/ctr", mounts={"pids": str(tmp_path / "pids")})
    manager.create()
    assert (tmp_path / "pids" / "a" / "b" / "ctr").is_dir()


def test_create_refuses_a_file_where_the_cgroup_would_be(tmp_path):
    (tmp_path / "pids").mkdir()
    (tmp_path / "pids" / "ctr").write_text("")
    manager = CgroupV1Manager("/ctr", mounts={"pids": str(tmp_path / "pids")})
    with pytest.raises(CgroupError, match="mkdir"):
        manager.create()


def test_create_after_destroy_makes_the_directories_again(tmp_path):
    (tmp_path / "pids").mkdir()
    manager = CgroupV1Manager("/ctr", mounts={"pids": str(tmp_path / "pids")})
    manager.create()
    manager.destroy()
    manager.create()
    assert (tmp_path / "pids" / "ctr").is_dir()


def test_destroy_is_idempotent(fake):
    manager, root = fake
    for controller in FILES:
        for f in (root / controller.replace("=", "-") / "ctr").iterdir():
            f.unlink()
    manager.destroy()
    manager.destroy()
    assert not (root / "pids" / "ctr").exists()


def test_relative_paths_resolve_per_controller(monkeypatch):
    monkeypatch.setattr(paths, "is_unified", lambda **_: False)
    monkeypatch.setattr(
        "porter_runtime.cgroups.paths.v1_mounts", lambda _: {"pids": "/p", "memory": "/m"}
    )
    monkeypatch.setattr(
        "porter_runtime.cgroups.paths.own_cgroups", lambda: {"pids": "/", "memory": "/job/7"}
    )
    manager = cgroup_manager({"cgroupsPath": "ctr"}, "id")
    assert manager.paths == {"pids": "/ctr", "memory": "/job/7/ctr"}
    assert manager.path == "/ctr"


def test_factory_picks_v2_on_a_unified_host(monkeypatch):
    monkeypatch.setattr(paths, "is_unified", lambda **_: True)
    monkeypatch.setattr("porter_runtime.cgroups.paths.own_cgroups", lambda: {"": "/"})
    manager = cgroup_manager({}, "abc")
    assert type(manager).__name__ == "CgroupV2Manager" and manager.path == "/porter-runtime/abc"


def test_load_restores_saved_per_controller_paths(monkeypatch):
    monkeypatch.setattr(paths, "is_unified", lambda **_: False)
    monkeypatch.setattr(
        "porter_runtime.cgroups.paths.v1_mounts", lambda _: {"pids": "/p", "memory": "/m"}
    )
    manager = load_cgroup_manager("/ctr", paths={"memory": "/job/ctr"})
    assert manager.paths == {"pids": "/ctr", "memory": "/job/ctr"}


def test_load_refuses_a_relative_path():
    with pytest.raises(CgroupError, match="must be absolute"):
        load_cgroup_manager("ctr")


def test_directories_are_one_per_hierarchy(tmp_path):
    mounts = {"cpu": str(tmp_path / "cpu,cpuacct"), "cpuacct": str(tmp_path / "cpu,cpuacct")}
    mounts["pids"] = str(tmp_path / "pids")
    manager = CgroupV1Manager("/ctr", mounts=mounts)
    assert manager.directories() == [str(tmp_path / "cpu,cpuacct/ctr"), str(tmp_path / "pids/ctr")]


def test_set_imports_nothing_once_its_setters_are_loaded(fake, monkeypatch):
    """create loads them before it forks the init, where an import would copy pages."""
    import porter_runtime.cgroups

    manager, _ = fake
    monkeypatch.delattr(porter_runtime.cgroups, "v1_resources", raising=False)
    monkeypatch.delitem(sys.modules, "porter_runtime.cgroups.v1_resources", raising=False)
    resources = {"memory": {"limit": 1 << 20}, "pids": {"limit": 10}}
    manager.load_setters(resources)
    before = set(sys.modules)
    manager.set(resources)
    assert set(sys.modules) - before == set()
