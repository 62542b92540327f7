"""cgroups (config-linux.md "Control groups"): every resource, checked in the cgroup files.

The container's cgroup is found from /proc/<pid>/cgroup of its process (state's
pid), so checks hold for absolute and relative cgroupsPath alike.  Values are
read on the host and, for one check, from inside through the cgroup mount.
"""

from __future__ import annotations

import errno
import secrets

import pytest

from conformance.runtime import hostfs
from conformance.runtime.host_features import (
    missing_cgroup_file,
    missing_controller,
    needs,
    root_block_device,
)
from conformance.runtime.hostfs import parse_mountinfo

pytestmark = pytest.mark.integration

V1 = "memory" in hostfs.cgroup_mounts()
needs_v1 = pytest.mark.skipif(not V1, reason="these file names are cgroup v1's; host is v2-only")


def _created(lab, resources: dict, cgroups_path: str | None = None):
    bundle = lab.bundle(["sleep", "30"])
    bundle.resources().update(resources)
    if cgroups_path is not None:
        bundle.linux["cgroupsPath"] = cgroups_path
    container = lab.container(bundle)
    container.create().check()
    return container


MEMORY = {
    "limit": 50593792,
    "reservation": 40960000,
    "swappiness": 10,
    "disableOOMKiller": True,
}


@needs_v1
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("memory.limit_in_bytes", "50593792"),
        ("memory.soft_limit_in_bytes", "40960000"),
        ("memory.swappiness", "10"),
    ],
    ids=["limit", "reservation", "swappiness"],
)
def test_memory_resource_is_set(lab, name, expected):
    container = _created(lab, {"memory": dict(MEMORY)})
    assert hostfs.read_cgroup(container.pid, "memory", name) == expected


@needs_v1
@needs(missing_cgroup_file("memory", "memory.memsw.limit_in_bytes"))
def test_memory_swap_is_set(lab):
    container = _created(lab, {"memory": {**MEMORY, "swap": 101187584}})
    swap = hostfs.read_cgroup(container.pid, "memory", "memory.memsw.limit_in_bytes")
    assert swap == "101187584"


@needs_v1
def test_memory_oom_killer_disabled(lab):
    container = _created(lab, {"memory": dict(MEMORY)})
    assert "oom_kill_disable 1" in hostfs.read_cgroup(container.pid, "memory", "memory.oom_control")


@needs_v1
@needs(missing_cgroup_file("memory", "memory.kmem.tcp.limit_in_bytes"))
def test_memory_kernel_tcp_limit_is_set(lab):
    container = _created(lab, {"memory": {"limit": 50593792, "kernelTCP": 20971520}})
    assert (
        hostfs.read_cgroup(container.pid, "memory", "memory.kmem.tcp.limit_in_bytes") == "20971520"
    )


@needs(missing_controller("memory"))
def test_memory_limit_is_visible_inside(lab):
    bundle = lab.bundle()
    bundle.resources()["memory"] = {"limit": 50593792}
    name = "memory.limit_in_bytes" if V1 else "memory.max"
    inside = f"/sys/fs/cgroup/memory/{name}" if V1 else f"/sys/fs/cgroup/{name}"
    report = lab.probe(bundle, "--file", inside)
    assert (report["files"][inside] or "").strip() == "50593792"


def _cgroup_view(lab, cgroupns: bool) -> tuple[dict, str]:
    """The probe's report of the config's read-only `cgroup` mount at /sys/fs/cgroup, and
    the cgroup.procs file it read there (the pids hierarchy's on v1)."""
    bundle = lab.bundle()
    if cgroupns:
        bundle.linux["namespaces"].append({"type": "cgroup"})
    procs = "/sys/fs/cgroup/pids/cgroup.procs" if V1 else "/sys/fs/cgroup/cgroup.procs"
    return lab.probe(bundle, "--file", procs, "--write", "/sys/fs/cgroup/pids/new"), procs


CGROUPNS = pytest.mark.parametrize("cgroupns", [False, True], ids=["host-cgroupns", "cgroupns"])


@CGROUPNS
def test_cgroup_mount_shows_the_containers_own_cgroup(lab, cgroupns):
    report, procs = _cgroup_view(lab, cgroupns)
    assert report["files"][procs].split() == ["1"]  # the probe alone, pid 1 of its namespace


@CGROUPNS
def test_cgroup_mount_is_read_only(lab, cgroupns):
    report, _ = _cgroup_view(lab, cgroupns)
    assert report["writes"]["/sys/fs/cgroup/pids/new"] == errno.EROFS


@needs_v1
@CGROUPNS
def test_cgroup_mount_holds_every_v1_hierarchy_read_only(lab, cgroupns):
    """Each controller hierarchy the host mounts (a hybrid host's unified one may be left
    out: runc 1.1 does)."""
    report, _ = _cgroup_view(lab, cgroupns)
    inside = {
        e.mount_point: e
        for e in parse_mountinfo(report["mountinfo"])
        if e.mount_point.startswith("/sys/fs/cgroup/")
    }
    v1 = {str(p) for name, p in hostfs.cgroup_mounts().items() if name}
    assert v1 <= set(inside)
    assert all("ro" in e.options and e.fstype in ("cgroup", "cgroup2") for e in inside.values())


CPU = {"shares": 2048, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"}


@needs_v1
@needs(missing_cgroup_file("cpu", "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"))
@needs(missing_controller("cpuset"))
@pytest.mark.parametrize(
    ("controller", "name", "expected"),
    [
        ("cpu", "cpu.shares", "2048"),
        ("cpu", "cpu.cfs_quota_us", "50000"),
        ("cpu", "cpu.cfs_period_us", "100000"),
        ("cpuset", "cpuset.cpus", "0"),
        ("cpuset", "cpuset.mems", "0"),
    ],
    ids=["shares", "quota", "period", "cpus", "mems"],
)
def test_cpu_resource_is_set(lab, controller, name, expected):
    container = _created(lab, {"cpu": dict(CPU)})
    assert hostfs.read_cgroup(container.pid, controller, name) == expected


@needs_v1
@needs(missing_cgroup_file("cpu", "cpu.rt_period_us", "cpu.rt_runtime_us"))
def test_cpu_realtime_resources_are_set(lab):
    cpu = {"realtimePeriod": 1000000, "realtimeRuntime": 0}
    container = _created(lab, {"cpu": cpu})
    assert hostfs.read_cgroup(container.pid, "cpu", "cpu.rt_period_us") == "1000000"
    assert hostfs.read_cgroup(container.pid, "cpu", "cpu.rt_runtime_us") == "0"


@needs(missing_controller("cpuset"))
def test_cpuset_restricts_affinity(lab):
    bundle = lab.bundle()
    bundle.resources()["cpu"] = {"cpus": "0"}
    assert lab.probe(bundle)["cpu_affinity"] == [0]


@needs(missing_controller("pids"))
def test_pids_limit_is_set(lab):
    container = _created(lab, {"pids": {"limit": 1000}})
    assert hostfs.read_cgroup(container.pid, "pids", "pids.max") == "1000"


def _block_device() -> tuple[int, int]:
    found = root_block_device()
    if found is None:
        pytest.skip("the root file system is on no block device to set a per-device limit for")
    return found


def _throttle(field: str, name: str, test_id: str):
    return pytest.param(field, name, id=test_id, marks=needs(missing_cgroup_file("blkio", name)))


@needs_v1
@pytest.mark.parametrize(
    ("field", "name"),
    [
        _throttle("throttleReadBpsDevice", "blkio.throttle.read_bps_device", "read-bps"),
        _throttle("throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "write-bps"),
        _throttle("throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "read-iops"),
        _throttle("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "write-iops"),
    ],
)
def test_blkio_throttle_is_set(lab, field, name):
    major, minor = _block_device()
    rule = {"major": major, "minor": minor, "rate": 102400}
    container = _created(lab, {"blockIO": {field: [rule]}})
    assert (
        f"{major}:{minor} 102400" in hostfs.read_cgroup(container.pid, "blkio", name).splitlines()
    )


BLKIO_WEIGHT = "blkio.weight|blkio.bfq.weight"  # the legacy (CFQ) file or BFQ's
NO_BLKIO_WEIGHT = missing_cgroup_file("blkio", BLKIO_WEIGHT)


@needs_v1
@needs(NO_BLKIO_WEIGHT)
def test_blkio_weight_is_set(lab):
    container = _created(lab, {"blockIO": {"weight": 500}})
    directory = hostfs.cgroup_dir(container.pid, "blkio")
    names = [name for name in ("blkio.weight", "blkio.bfq.weight") if (directory / name).exists()]
    values = {name: (directory / name).read_text().split() for name in names}
    assert any("500" in value for value in values.values()), values


@needs(missing_controller("blkio"))
@pytest.mark.skipif(NO_BLKIO_WEIGHT is None, reason="the blkio weight can be applied here")
def test_blkio_weight_the_host_cannot_apply_is_refused(lab):
    """Where the kernel has no weight file (no BFQ), create fails: never silently dropped."""
    bundle = lab.bundle(["sleep", "30"])
    bundle.resources()["blockIO"] = {"weight": 500}
    assert not lab.container(bundle).create().ok


@needs_v1
def test_blkio_weight_device_is_applied_or_refused(lab):
    """Per-device weights need a scheduler that has them (BFQ); without, create must fail."""
    major, minor = _block_device()
    rule = {"major": major, "minor": minor, "weight": 300}
    bundle = lab.bundle(["sleep", "30"])
    bundle.resources()["blockIO"] = {"weight": 500, "weightDevice": [rule]}
    container = lab.container(bundle)
    if not container.create().ok:
        return
    directory = hostfs.cgroup_dir(container.pid, "blkio")
    texts = [
        (directory / name).read_text()
        for name in ("blkio.weight_device", "blkio.bfq.weight_device")
        if (directory / name).exists()
    ]
    assert any(f"{major}:{minor} 300" in text for text in texts), texts


def _refused_or_applied(lab, resources: dict, controller: str, name: str, expected: str):
    """Either the limit is in the cgroup, or create fails: never silently dropped."""
    bundle = lab.bundle(["sleep", "30"])
    bundle.resources().update(resources)
    container = lab.container(bundle)
    if not container.create().ok:
        return
    directory = hostfs.cgroup_dir(container.pid, controller)
    assert (directory / name).exists(), f"{name} not set and no error from create"
    assert (directory / name).read_text().strip() == expected


def test_hugepage_limit_is_applied_or_refused(lab):
    limit = {"pageSize": "2MB", "limit": 2 * 1024 * 1024 * 8}
    _refused_or_applied(
        lab,
        {"hugepageLimits": [limit]},
        "hugetlb",
        "hugetlb.2MB.limit_in_bytes" if V1 else "hugetlb.2MB.max",
        str(limit["limit"]),
    )


def test_hugepage_invalid_page_size_is_an_error(lab):
    bundle = lab.bundle(["true"])
    bundle.resources()["hugepageLimits"] = [{"pageSize": "3MB", "limit": 3 * 1024 * 1024}]
    assert not lab.container(bundle).create().ok


def test_network_class_id_is_applied_or_refused(lab):
    _refused_or_applied(
        lab, {"network": {"classID": 1048577}}, "net_cls", "net_cls.classid", "1048577"
    )


def test_network_priority_is_applied_or_refused(lab):
    network = {"priorities": [{"name": "lo", "priority": 10}]}
    bundle = lab.bundle(["sleep", "30"])
    bundle.resources()["network"] = network
    container = lab.container(bundle)
    if not container.create().ok:
        return
    map_file = hostfs.cgroup_dir(container.pid, "net_prio") / "net_prio.ifpriomap"
    assert map_file.exists(), "net_prio.ifpriomap not set and no error from create"
    assert "lo 10" in map_file.read_text().splitlines()


@needs_v1
@needs(missing_controller("devices"))
def test_device_rules_are_in_devices_list(lab):
    rules = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
        {"allow": True, "type": "b", "major": 8, "minor": 20, "access": "rw"},
    ]
    container = _created(lab, {"devices": rules})
    listed = hostfs.read_cgroup(container.pid, "devices", "devices.list").splitlines()
    assert "c 10:229 rwm" in listed
    assert "b 8:20 rw" in listed


def test_device_rule_denies_access(lab):
    bundle = lab.bundle()
    bundle.linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]
    bundle.resources()["devices"] = [
        {"allow": True, "access": "rwm"},
        {"allow": False, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
    ]
    access = lab.probe(bundle, "--access", "/dev/fuse")["access"]["/dev/fuse"]
    assert (access["read_errno"], access["write_errno"]) == (1, 1)  # EPERM from the cgroup


@needs(missing_controller("pids"))
def test_absolute_cgroups_path_is_used(lab):
    path = f"/{hostfs.CLEANUP_MARKER}-{lab.tag}/abs-{secrets.token_hex(4)}"
    container = _created(lab, {"pids": {"limit": 1000}}, cgroups_path=path)
    assert hostfs.process_cgroups(container.pid)["pids" if V1 else ""] == path
    assert hostfs.read_cgroup(container.pid, "pids", "pids.max") == "1000"


def test_init_is_in_the_cgroup_in_every_hierarchy_with_a_controller_it_uses(lab):
    """Memory, cpu, pids, ... and, on a hybrid host, the unified hierarchy: a process that
    joined some but not others would escape the limits of the others."""
    path = f"/{hostfs.CLEANUP_MARKER}-{lab.tag}/all-{secrets.token_hex(4)}"
    container = _created(lab, {}, cgroups_path=path)
    joined = hostfs.process_cgroups(container.pid)
    wanted = ["", "pids", "memory", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio"]
    mounted = [c for c in wanted if c in hostfs.cgroup_mounts()]
    assert {c: joined.get(c) for c in mounted} == dict.fromkeys(mounted, path)


@needs(missing_controller("pids"))
def test_relative_cgroups_path_is_used(lab):
    relative = f"{hostfs.CLEANUP_MARKER}-{lab.tag}/rel-{secrets.token_hex(4)}"
    container = _created(lab, {"pids": {"limit": 1000}}, cgroups_path=relative)
    assert hostfs.process_cgroups(container.pid)["pids" if V1 else ""].endswith("/" + relative)
    assert hostfs.read_cgroup(container.pid, "pids", "pids.max") == "1000"


@needs(missing_controller("pids"))
def test_delete_removes_the_cgroup_it_created(lab):
    container = _created(lab, {"pids": {"limit": 1000}})
    directory = hostfs.cgroup_dir(container.pid, "pids")
    container.kill("KILL").check()
    container.wait("stopped")
    container.delete().check()
    assert not directory.exists()


def test_delete_keeps_cgroups_it_did_not_create(lab):
    container = _created(lab, {})
    own_cgroup = hostfs.cgroup_dir(container.pid, "pids")
    foreign = own_cgroup.parent / f"foreign-{secrets.token_hex(4)}"
    foreign.mkdir()
    lab.defer(lambda: foreign.rmdir() if foreign.exists() else None)
    (foreign / "cgroup.procs").write_text(str(container.pid))
    container.start().check()
    container.kill("KILL").check()
    container.wait("stopped")
    container.delete().check()
    assert foreign.is_dir()
