"""`linux.resources` translated to cgroup v2 files, with runc's conversions.

The runtime-spec's resources are shaped after cgroup v1; on v2 runc converts them
(shares -> cpu.weight, blkio weight -> io.weight, memsw -> swap.max = memsw - memory)
and so do we, so that one config means the same on both. Fields with no v2 meaning
either error (a limit the user expects to hold) or are ignored with a warning (hints).
"""

from __future__ import annotations

from porter_runtime.cgroups import files
from porter_runtime.cgroups.base import CgroupError, warn
from porter_runtime.cgroups.v1_resources import set_cpuset, set_pids, set_rdma

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Mapping
    from typing import Any

_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_CONTROLLER_CHARS = _LOWER | frozenset("0123456789_")
_FILE_CHARS = _CONTROLLER_CHARS | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ.")


def is_controller_file(key: str) -> bool:
    """`controller.file` as cgroupfs names them (memory.high, io.bfq.weight); no `re`,
    which the runtime does not import on its hot path."""
    controller, dot, rest = key.partition(".")
    return (
        bool(dot and rest and controller)
        and controller[0] in _LOWER
        and set(controller) <= _CONTROLLER_CHARS
        and set(rest) <= _FILE_CHARS
    )


def shares_to_weight(shares: int) -> int:
    """runc's cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 stays "unset"."""
    if shares == 0:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def blkio_weight_to_io_weight(weight: int) -> int:
    """runc's blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 stays "unset"."""
    if weight == 0:
        return 0
    return 1 + (weight - 10) * 9999 // 990


def swap_to_v2(swap: int, memory: int, path: str) -> int:
    """runc's conversion: v2's swap.max counts swap only, the spec's swap is memory+swap."""
    if memory == -1 and swap == 0:
        return -1
    if swap in (-1, 0):
        return swap
    if memory in (0, -1):
        raise CgroupError(path, "memory.swap", "a swap limit needs a memory limit")
    if swap < memory:
        raise CgroupError(path, "memory.swap", f"memory+swap {swap} is below memory {memory}")
    return swap - memory


def _limit(value: int) -> str:
    return "max" if value == -1 else str(value)


def _memory(d: str, r: Mapping[str, Any]) -> None:
    mem = r.get("memory") or {}
    limit, spec_swap = mem.get("limit") or 0, mem.get("swap") or 0
    swap = swap_to_v2(spec_swap, limit, d)
    if swap != 0 or spec_swap > 0:  # memory == memory+swap: swap disabled, "0"
        try:
            files.write(d, "memory.swap.max", _limit(swap))
        except CgroupError:
            if files.exists(d, "memory.swap.max") or swap not in (-1, 0):
                raise  # no swap on this host: "unlimited" or "none" hold anyway
    if limit:
        files.write(d, "memory.max", _limit(limit))
    if mem.get("reservation"):
        files.write(d, "memory.low", _limit(mem["reservation"]))
    for key in ("kernel", "kernelTCP", "swappiness", "disableOOMKiller"):
        if mem.get(key):
            warn(__name__, "cgroup %s: memory.%s has no cgroup v2 equivalent; ignored", d, key)


def _cpu(d: str, r: Mapping[str, Any]) -> None:
    cpu = r.get("cpu") or {}
    if cpu.get("realtimePeriod") or cpu.get("realtimeRuntime"):
        raise CgroupError(d, "cpu.realtime", "real-time budgets are not supported on cgroup v2")
    weight = shares_to_weight(cpu.get("shares") or 0)
    if weight:
        files.write(d, "cpu.weight", weight)
    quota, period = cpu.get("quota") or 0, cpu.get("period") or 0
    if quota or period:
        value = str(quota) if quota > 0 else "max"
        if period:
            value += f" {period}"
        files.write(d, "cpu.max", value)
    if cpu.get("burst") is not None:
        files.write(d, "cpu.max.burst", cpu["burst"])
    if cpu.get("idle") is not None:
        files.write(d, "cpu.idle", cpu["idle"])


IO_MAX_KEYS = {
    "throttleReadBpsDevice": "rbps",
    "throttleWriteBpsDevice": "wbps",
    "throttleReadIOPSDevice": "riops",
    "throttleWriteIOPSDevice": "wiops",
}


def _io(d: str, r: Mapping[str, Any]) -> None:
    bio = r.get("blockIO") or {}
    bfq = files.exists(d, "io.bfq.weight")
    if bio.get("weight"):
        if bfq:
            files.write(d, "io.bfq.weight", bio["weight"])
        else:
            files.write(d, "io.weight", blkio_weight_to_io_weight(bio["weight"]))
    for dev in bio.get("weightDevice") or []:
        if dev.get("weight"):
            name = "io.bfq.weight" if bfq else "io.weight"
            weight = dev["weight"] if bfq else blkio_weight_to_io_weight(dev["weight"])
            files.write(d, name, f"{dev['major']}:{dev['minor']} {weight}")
    if bio.get("leafWeight"):
        warn(__name__, "cgroup %s: blockIO.leafWeight has no cgroup v2 equivalent; ignored", d)
    for key, word in IO_MAX_KEYS.items():
        for dev in bio.get(key) or []:
            files.write(d, "io.max", f"{dev['major']}:{dev['minor']} {word}={dev['rate']}")


def _hugetlb(d: str, r: Mapping[str, Any]) -> None:
    for entry in r.get("hugepageLimits") or []:
        size, limit = entry.get("pageSize"), entry.get("limit")
        if not size or limit is None:
            raise CgroupError(d, "hugepageLimits", f"entry {entry!r} needs pageSize and limit")
        files.write(d, f"hugetlb.{size}.max", _limit(limit))
        if files.exists(d, f"hugetlb.{size}.rsvd.max"):
            files.write(d, f"hugetlb.{size}.rsvd.max", _limit(limit))


def _network(d: str, r: Mapping[str, Any]) -> None:
    net = r.get("network") or {}
    if net.get("classID") is not None or net.get("priorities"):
        raise CgroupError(d, "network", "net_cls and net_prio do not exist on cgroup v2")


def _unified(d: str, r: Mapping[str, Any]) -> None:
    """Written verbatim, after everything else, so they win over converted values."""
    for key, value in (r.get("unified") or {}).items():
        if not is_controller_file(key) or key.startswith("cgroup."):
            raise CgroupError(d, f"unified {key!r}", "not the name of a controller file")
        if not files.exists(d, key):
            controller = key.split(".", 1)[0]
            raise CgroupError(
                d, f"unified {key!r}", f"no such file (is the {controller} controller enabled?)"
            )
        files.write(d, key, value)


# in order; unified values are written by `set_unified`, last, after devices
SETTERS = (_memory, _cpu, set_cpuset, set_pids, _io, _hugetlb, _network, set_rdma)
set_unified = _unified
