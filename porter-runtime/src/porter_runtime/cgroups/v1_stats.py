"""runc-shaped statistics read from cgroup v1 controller files."""

from __future__ import annotations

import os

from porter_runtime.cgroups import files
from porter_runtime.cgroups.stats import (
    blkio_entries_v1,
    empty_stats,
    hugetlb_sizes,
    memory_entry,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Mapping
    from typing import Any

NANOS_PER_SECOND = 1_000_000_000


def collect(dirs: Mapping[str, str]) -> dict[str, Any]:
    """Statistics for every mounted controller; a missing controller leaves zeros."""
    stats = empty_stats()
    if "cpuacct" in dirs:
        _cpuacct(dirs["cpuacct"], stats["cpu"]["usage"])
    if "cpu" in dirs:
        cpu_stat = files.read_keyed(dirs["cpu"], "cpu.stat")
        stats["cpu"]["throttling"] = {
            "periods": cpu_stat.get("nr_periods", 0),
            "throttledPeriods": cpu_stat.get("nr_throttled", 0),
            "throttledTime": cpu_stat.get("throttled_time", 0),
        }
    if "memory" in dirs:
        stats["memory"] = _memory(dirs["memory"])
    if "pids" in dirs:
        limit = files.read_or(dirs["pids"], "pids.max")
        stats["pids"] = {
            "current": files.read_uint(dirs["pids"], "pids.current"),
            "limit": 0 if limit == "max" else files.parse_uint(limit),
        }
    if "blkio" in dirs:
        stats["blkio"].update(_blkio(dirs["blkio"]))
    if "hugetlb" in dirs:
        stats["hugetlb"] = _hugetlb(dirs["hugetlb"])
    return stats


def _cpuacct(d: str, usage: dict[str, Any]) -> None:
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    acct = files.read_keyed(d, "cpuacct.stat")
    usage["total"] = files.read_uint(d, "cpuacct.usage")
    usage["percpu"] = [
        files.parse_uint(x) for x in files.read_or(d, "cpuacct.usage_percpu").split()
    ]
    usage["percpu_kernel"] = [
        files.parse_uint(x) for x in files.read_or(d, "cpuacct.usage_percpu_sys").split()
    ]
    usage["percpu_user"] = [
        files.parse_uint(x) for x in files.read_or(d, "cpuacct.usage_percpu_user").split()
    ]
    usage["kernel"] = acct.get("system", 0) * NANOS_PER_SECOND // tick
    usage["user"] = acct.get("user", 0) * NANOS_PER_SECOND // tick


def _memory_entry(d: str, prefix: str) -> dict[str, int]:
    return memory_entry(
        limit=files.read_uint(d, f"{prefix}.limit_in_bytes"),
        usage=files.read_uint(d, f"{prefix}.usage_in_bytes"),
        max_usage=files.read_uint(d, f"{prefix}.max_usage_in_bytes"),
        failcnt=files.read_uint(d, f"{prefix}.failcnt"),
    )


def _memory(d: str) -> dict[str, Any]:
    raw = files.read_keyed(d, "memory.stat")
    return {
        "cache": raw.get("total_cache", raw.get("cache", 0)),
        "usage": _memory_entry(d, "memory"),
        "swap": _memory_entry(d, "memory.memsw"),
        "kernel": _memory_entry(d, "memory.kmem"),
        "kernelTCP": _memory_entry(d, "memory.kmem.tcp"),
        "raw": raw,
        "use_hierarchy": files.read_or(d, "memory.use_hierarchy") == "1",
    }


def _blkio(d: str) -> dict[str, list[dict[str, Any]]]:
    """runc's order: CFQ files when the kernel has them, else BFQ, else throttling."""
    for prefix in ("blkio.", "blkio.bfq.", "blkio.throttle."):
        if files.exists(d, prefix + "io_service_bytes_recursive"):
            break
    result = {
        "ioServiceBytesRecursive": blkio_entries_v1(d, prefix + "io_service_bytes_recursive"),
        "ioServicedRecursive": blkio_entries_v1(d, prefix + "io_serviced_recursive"),
    }
    if prefix == "blkio.":
        for key, name in (
            ("ioQueuedRecursive", "io_queued_recursive"),
            ("ioServiceTimeRecursive", "io_service_time_recursive"),
            ("ioWaitTimeRecursive", "io_wait_time_recursive"),
            ("ioMergedRecursive", "io_merged_recursive"),
            ("ioTimeRecursive", "time_recursive"),
            ("sectorsRecursive", "sectors_recursive"),
        ):
            result[key] = blkio_entries_v1(d, prefix + name)
    return result


def _hugetlb(d: str) -> dict[str, dict[str, int]]:
    return {
        size: {
            "usage": files.read_uint(d, f"hugetlb.{size}.usage_in_bytes"),
            "max": files.read_uint(d, f"hugetlb.{size}.max_usage_in_bytes"),
            "failcnt": files.read_uint(d, f"hugetlb.{size}.failcnt"),
        }
        for size in hugetlb_sizes(d, ".limit_in_bytes")
    }
