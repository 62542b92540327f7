"""The shape of runc's `events --stats` data, shared by both backends.

runc reports cgroup statistics as one JSON object (`types.Stats` in runc's events
package); tools that parse runc's output parse ours unchanged. Each backend fills
the same skeleton from its own files.
"""

from __future__ import annotations

import os

from porter_runtime.cgroups import files

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from typing import Any

BLKIO_KEYS = (
    "ioServiceBytesRecursive",
    "ioServicedRecursive",
    "ioQueuedRecursive",
    "ioServiceTimeRecursive",
    "ioWaitTimeRecursive",
    "ioMergedRecursive",
    "ioTimeRecursive",
    "sectorsRecursive",
)


def memory_entry(limit: int = 0, usage: int = 0, max_usage: int = 0, failcnt: int = 0) -> dict:
    return {"limit": limit, "usage": usage, "max": max_usage, "failcnt": failcnt}


def empty_stats() -> dict[str, Any]:
    """Every key runc's stats carry, zeroed, so consumers can index without checks."""
    return {
        "cpu": {
            "usage": {
                "total": 0,
                "percpu": [],
                "percpu_kernel": [],
                "percpu_user": [],
                "kernel": 0,
                "user": 0,
            },
            "throttling": {"periods": 0, "throttledPeriods": 0, "throttledTime": 0},
        },
        "memory": {
            "cache": 0,
            "usage": memory_entry(),
            "swap": memory_entry(),
            "kernel": memory_entry(),
            "kernelTCP": memory_entry(),
            "raw": {},
        },
        "pids": {"current": 0, "limit": 0},
        "blkio": {key: [] for key in BLKIO_KEYS},
        "hugetlb": {},
        "intel_rdt": {},
        "network_interfaces": None,
    }


def hugetlb_sizes(directory: str, suffix: str) -> list[str]:
    """Page sizes ("2MB", "1GB") for which `hugetlb.<size><suffix>` exists in the cgroup."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(
        n[len("hugetlb.") : -len(suffix)]
        for n in names
        if n.startswith("hugetlb.") and n.endswith(suffix) and ".rsvd." not in n
    )


def blkio_entries_v1(directory: str, name: str) -> list[dict[str, Any]]:
    """Lines "8:0 Read 4096" of a v1 blkio stat file (the "Total" lines are dropped)."""
    entries = []
    for line in files.read_or(directory, name).splitlines():
        parts = line.split()
        if len(parts) == 3 and ":" in parts[0]:
            major, minor = parts[0].split(":")
            entries.append(
                {"major": int(major), "minor": int(minor), "op": parts[1], "value": int(parts[2])}
            )
        elif len(parts) == 2 and ":" in parts[0]:  # sectors, io_time: no op column
            major, minor = parts[0].split(":")
            entries.append(
                {"major": int(major), "minor": int(minor), "op": "", "value": int(parts[1])}
            )
    return entries


def io_stat_entries_v2(directory: str) -> dict[str, list[dict[str, Any]]]:
    """io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...") in runc's v1-style entries."""
    out: dict[str, list[dict[str, Any]]] = {
        "ioServiceBytesRecursive": [],
        "ioServicedRecursive": [],
    }
    ops = {
        "rbytes": ("ioServiceBytesRecursive", "Read"),
        "wbytes": ("ioServiceBytesRecursive", "Write"),
        "rios": ("ioServicedRecursive", "Read"),
        "wios": ("ioServicedRecursive", "Write"),
    }
    for line in files.read_or(directory, "io.stat").splitlines():
        device, *pairs = line.split()
        if ":" not in device:
            continue
        major, minor = (int(x) for x in device.split(":"))
        for pair in pairs:
            key, _, value = pair.partition("=")
            if key in ops:
                bucket, op = ops[key]
                out[bucket].append({"major": major, "minor": minor, "op": op, "value": int(value)})
    return out
