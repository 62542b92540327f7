"""`linux.resources` written to cgroup v1 controller files, the way runc's fs driver does.

One setter per controller; each takes the controller's directory and the whole
resources object, and writes only what the config sets (0 or absent means "leave it",
as in runc). The manager calls the setters whose controller is mounted; a field whose
controller is missing is an error, because silently ignoring a limit is worse.
"""

from __future__ import annotations

from porter_runtime.cgroups import files
from porter_runtime.cgroups.base import CgroupError, warn
from porter_runtime.cgroups.devices import emulate

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Callable, Mapping
    from typing import Any

    Setter = Callable[[str, Mapping[str, Any]], None]


def _memory(d: str, r: Mapping[str, Any]) -> None:
    mem = r.get("memory") or {}
    limit, swap = mem.get("limit") or 0, mem.get("swap") or 0
    has_memsw = files.exists(d, "memory.memsw.limit_in_bytes")
    if limit == -1 and swap == 0 and has_memsw:
        swap = -1  # "unlimited memory" means unlimited swap too, as in runc
    if swap and not has_memsw:
        raise CgroupError(d, "memory.swap", "swap accounting (memory.memsw) is not enabled here")
    if mem.get("checkBeforeUpdate") and limit > 0:
        usage = files.read_uint(d, "memory.usage_in_bytes")
        if limit < usage:
            raise CgroupError(d, "memory.limit", f"{limit} is below current usage {usage}")
    _memory_and_swap(d, limit, swap)
    if mem.get("reservation"):
        files.write(d, "memory.soft_limit_in_bytes", mem["reservation"])
    if mem.get("kernel"):
        warn(__name__, "cgroup %s: memory.kernel is deprecated by the kernel; ignored", d)
    if mem.get("kernelTCP"):
        files.write(d, "memory.kmem.tcp.limit_in_bytes", mem["kernelTCP"])
    if mem.get("swappiness") is not None:
        swappiness = mem["swappiness"]
        if not 0 <= swappiness <= 100:
            raise CgroupError(d, "memory.swappiness", f"{swappiness} is not within 0..100")
        files.write(d, "memory.swappiness", swappiness)
    if mem.get("disableOOMKiller"):
        files.write(d, "memory.oom_control", 1)
    if mem.get("useHierarchy") is not None:
        files.write(d, "memory.use_hierarchy", int(bool(mem["useHierarchy"])))


def _memory_and_swap(d: str, limit: int, swap: int) -> None:
    """memsw must never drop below the memory limit, so the write order depends on both."""
    if limit and swap:
        current = files.parse_uint(files.read_or(d, "memory.memsw.limit_in_bytes"))
        if swap == -1 or swap > current:
            files.write(d, "memory.memsw.limit_in_bytes", swap)
            files.write(d, "memory.limit_in_bytes", limit)
        else:
            files.write(d, "memory.limit_in_bytes", limit)
            files.write(d, "memory.memsw.limit_in_bytes", swap)
    elif limit:
        files.write(d, "memory.limit_in_bytes", limit)
    elif swap:
        files.write(d, "memory.memsw.limit_in_bytes", swap)


def _cpu(d: str, r: Mapping[str, Any]) -> None:
    cpu = r.get("cpu") or {}
    if cpu.get("shares"):
        files.write(d, "cpu.shares", cpu["shares"])
        actual = files.read_uint(d, "cpu.shares")
        if actual != cpu["shares"]:
            raise CgroupError(d, "cpu.shares", f"{cpu['shares']} clamped to {actual} by the kernel")
    period, quota = cpu.get("period") or 0, cpu.get("quota") or 0
    if period:
        try:
            files.write(d, "cpu.cfs_period_us", period)
        except CgroupError:
            if not quota:
                raise
            files.write(d, "cpu.cfs_quota_us", quota)  # the old quota made the period invalid
            files.write(d, "cpu.cfs_period_us", period)
    if quota:
        files.write(d, "cpu.cfs_quota_us", quota)
    if cpu.get("burst") is not None:
        files.write(d, "cpu.cfs_burst_us", cpu["burst"])
    if cpu.get("idle") is not None:
        files.write(d, "cpu.idle", cpu["idle"])
    set_realtime(d, r)


def set_realtime(d: str, r: Mapping[str, Any]) -> None:
    """Real-time budget; written before the pid joins, since an RT task needs one."""
    cpu = r.get("cpu") or {}
    if cpu.get("realtimePeriod"):
        files.write(d, "cpu.rt_period_us", cpu["realtimePeriod"])
    if cpu.get("realtimeRuntime"):
        files.write(d, "cpu.rt_runtime_us", cpu["realtimeRuntime"])


def set_cpuset(d: str, r: Mapping[str, Any]) -> None:
    """cpuset.cpus and cpuset.mems: the same files on v1 and v2."""
    cpu = r.get("cpu") or {}
    if cpu.get("cpus"):
        files.write(d, "cpuset.cpus", cpu["cpus"])
    if cpu.get("mems"):
        files.write(d, "cpuset.mems", cpu["mems"])


def set_pids(d: str, r: Mapping[str, Any]) -> None:
    """pids.max, the same file on v1 and v2; a negative limit means none."""
    limit = (r.get("pids") or {}).get("limit") or 0
    if limit:
        files.write(d, "pids.max", limit if limit > 0 else "max")


def _blkio(d: str, r: Mapping[str, Any]) -> None:
    bio = r.get("blockIO") or {}
    prefix = "blkio.bfq." if files.exists(d, "blkio.bfq.weight") else "blkio."
    if bio.get("weight"):
        files.write(d, prefix + "weight", bio["weight"])
    if bio.get("leafWeight"):
        files.write(d, "blkio.leaf_weight", bio["leafWeight"])
    for dev in bio.get("weightDevice") or []:
        number = f"{dev['major']}:{dev['minor']}"
        if dev.get("weight"):
            files.write(d, prefix + "weight_device", f"{number} {dev['weight']}")
        if dev.get("leafWeight"):
            files.write(d, "blkio.leaf_weight_device", f"{number} {dev['leafWeight']}")
    for key, name in THROTTLES.items():
        for dev in bio.get(key) or []:
            files.write(d, name, f"{dev['major']}:{dev['minor']} {dev['rate']}")


THROTTLES = {
    "throttleReadBpsDevice": "blkio.throttle.read_bps_device",
    "throttleWriteBpsDevice": "blkio.throttle.write_bps_device",
    "throttleReadIOPSDevice": "blkio.throttle.read_iops_device",
    "throttleWriteIOPSDevice": "blkio.throttle.write_iops_device",
}


def _hugetlb(d: str, r: Mapping[str, Any]) -> None:
    for entry in r.get("hugepageLimits") or []:
        size, limit = entry.get("pageSize"), entry.get("limit")
        if not size or limit is None:
            raise CgroupError(d, "hugepageLimits", f"entry {entry!r} needs pageSize and limit")
        files.write(d, f"hugetlb.{size}.limit_in_bytes", limit)
        if files.exists(d, f"hugetlb.{size}.rsvd.limit_in_bytes"):
            files.write(d, f"hugetlb.{size}.rsvd.limit_in_bytes", limit)


def _net_cls(d: str, r: Mapping[str, Any]) -> None:
    classid = (r.get("network") or {}).get("classID")
    if classid is not None:
        files.write(d, "net_cls.classid", classid)


def _net_prio(d: str, r: Mapping[str, Any]) -> None:
    for entry in (r.get("network") or {}).get("priorities") or []:
        files.write(d, "net_prio.ifpriomap", f"{entry['name']} {entry['priority']}")


def _devices(d: str, r: Mapping[str, Any]) -> None:
    rules = r.get("devices")
    if rules is None:
        return
    policy = emulate(rules, d)
    if policy.default_allow:
        files.write(d, "devices.allow", "a")
        for rule in policy.exceptions:
            files.write(d, "devices.deny", rule.v1_entry())
    else:
        files.write(d, "devices.deny", "a")
        for rule in policy.exceptions:
            files.write(d, "devices.allow", rule.v1_entry())


def rdma_entries(r: Mapping[str, Any]) -> list[str]:
    """rdma.max lines ("mlx5_1 hca_handle=3 hca_object=max"), the same on v1 and v2."""
    lines = []
    for device, limits in (r.get("rdma") or {}).items():
        parts = [device]
        for key, name in (("hcaHandles", "hca_handle"), ("hcaObjects", "hca_object")):
            if limits.get(key) is not None:
                parts.append(f"{name}={limits[key]}")
        lines.append(" ".join(parts))
    return lines


def set_rdma(d: str, r: Mapping[str, Any]) -> None:
    """rdma.max, the same file and format on v1 and v2."""
    for line in rdma_entries(r):
        files.write(d, "rdma.max", line)


CPU_FIELDS = ("shares", "quota", "period", "burst", "idle", "realtimePeriod", "realtimeRuntime")
CPU_KEYS = tuple(f"cpu.{k}" for k in CPU_FIELDS)

# controller -> (setter, the resources keys (and sub-keys) it consumes)
SETTERS: dict[str, tuple[Setter, tuple[str, ...]]] = {
    "memory": (_memory, ("memory",)),
    "cpu": (_cpu, CPU_KEYS),
    "cpuset": (set_cpuset, ("cpu.cpus", "cpu.mems")),
    "pids": (set_pids, ("pids",)),
    "blkio": (_blkio, ("blockIO",)),
    "hugetlb": (_hugetlb, ("hugepageLimits",)),
    "net_cls": (_net_cls, ("network.classID",)),
    "net_prio": (_net_prio, ("network.priorities",)),
    "devices": (_devices, ("devices",)),
    "rdma": (set_rdma, ("rdma",)),
}


def requested(r: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    """Whether the resources set any of the "key" or "key.sub" fields (0 counts as unset)."""
    for key in keys:
        top, _, sub = key.partition(".")
        value = r.get(top)
        if sub and isinstance(value, dict):
            value = value.get(sub)
        elif sub:
            value = None
        if value not in (None, 0, [], {}, "") or (key == "devices" and value is not None):
            return True
    return False
