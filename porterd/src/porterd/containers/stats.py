"""`GET /containers/{id}/stats`: the runtime's statistics (`RUNTIME events --stats`) in
dockerd's shape, with the previous sample as `precpu_stats` so clients can compute a CPU %.

Block I/O comes from the runtime too (its cgroup's blkio files on v1, io.stat on v2, in
runc's entries); network figures are read from /proc/PID/net/dev of the container's process,
every interface of its namespace but loopback, as dockerd reports its sandbox's interfaces.
A container on the host's network has none of its own, and reports none.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from porterd.clock import now_rfc3339
from porterd.containers.record import ZERO_TIME
from porterd.containers.runtime import RuntimeFailed

if TYPE_CHECKING:
    from porterd.containers.record import Container
    from porterd.containers.service import ContainerService

INTERVAL = 1.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def stats_stream(service: ContainerService, container: Container, stream: bool) -> Iterator[bytes]:
    previous = _empty_cpu()
    preread = ZERO_TIME
    while True:
        sample = sample_stats(service, container)
        document = {**sample, "precpu_stats": previous, "preread": preread}
        yield json.dumps(document).encode() + b"\n"
        if not stream or not container.state.status.is_running():
            return
        previous, preread = sample["cpu_stats"], sample["read"]
        time.sleep(INTERVAL)


def sample_stats(service: ContainerService, container: Container) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if container.state.status.is_running():
        try:
            output = service.runtime_of(container).run("events", "--stats", container.id)
            data = json.loads(output.splitlines()[0]).get("data") or {}
        except (RuntimeFailed, ValueError, IndexError):
            data = {}
    cpu = data.get("cpu") or {}
    usage = cpu.get("usage") or {}
    memory = data.get("memory") or {}
    memory_usage = memory.get("usage") or {}
    return {
        "read": now_rfc3339(),
        "id": container.id,
        "name": container.name,
        "num_procs": 0,
        "pids_stats": {"current": (data.get("pids") or {}).get("current", 0)},
        "cpu_stats": {
            "cpu_usage": {
                "total_usage": usage.get("total", 0),
                "percpu_usage": usage.get("percpu") or [],
                "usage_in_kernelmode": usage.get("kernel", 0),
                "usage_in_usermode": usage.get("user", 0),
            },
            "system_cpu_usage": _system_cpu_ns(),
            "online_cpus": os.cpu_count() or 1,
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
        },
        "memory_stats": {
            "usage": memory_usage.get("usage", 0),
            "max_usage": memory_usage.get("max", 0),
            "limit": memory_usage.get("limit", 0),
            "stats": memory.get("raw") or {},
        },
        "blkio_stats": blkio_stats(data.get("blkio") or {}),
        "networks": _networks(container),
    }


# dockerd's blkio_stats keys, by the runtime's (runc's) names for them
BLKIO_KEYS = {
    "io_service_bytes_recursive": "ioServiceBytesRecursive",
    "io_serviced_recursive": "ioServicedRecursive",
    "io_queue_recursive": "ioQueuedRecursive",
    "io_service_time_recursive": "ioServiceTimeRecursive",
    "io_wait_time_recursive": "ioWaitTimeRecursive",
    "io_merged_recursive": "ioMergedRecursive",
    "io_time_recursive": "ioTimeRecursive",
    "sectors_recursive": "sectorsRecursive",
}
BLKIO_ENTRY = ("major", "minor", "op", "value")
NET_DEV_FIELDS = {  # /proc/net/dev's columns after "name:" that dockerd reports
    "rx_bytes": 0, "rx_packets": 1, "rx_errors": 2, "rx_dropped": 3,
    "tx_bytes": 8, "tx_packets": 9, "tx_errors": 10, "tx_dropped": 11,
}  # fmt: skip


def blkio_stats(blkio: dict[str, Any]) -> dict[str, Any]:
    """The runtime's blkio statistics as dockerd's `blkio_stats`."""
    return {
        ours: [{key: entry.get(key) for key in BLKIO_ENTRY} for entry in blkio.get(theirs) or []]
        for ours, theirs in BLKIO_KEYS.items()
    }


def network_stats(net_dev: str) -> dict[str, dict[str, int]]:
    """The interfaces of a /proc/net/dev text but loopback, with dockerd's counters."""
    interfaces = {}
    for line in net_dev.splitlines()[2:]:
        name, sep, counters = line.partition(":")
        values = counters.split()
        if not sep or name.strip() == "lo" or len(values) < 16:
            continue
        interfaces[name.strip()] = {
            field: int(values[column]) for field, column in NET_DEV_FIELDS.items()
        }
    return interfaces


def _networks(container: Container) -> dict[str, dict[str, int]]:
    pid = container.state.pid
    host_network = container.host_config.get("NetworkMode") == "host"
    if host_network or not pid or not container.state.status.is_running():
        return {}
    try:
        with open(f"/proc/{pid}/net/dev") as net_dev:
            return network_stats(net_dev.read())
    except OSError:  # the process ended since its state was read
        return {}


def _empty_cpu() -> dict[str, Any]:
    return {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0, "online_cpus": 0}


def _system_cpu_ns() -> int:
    """The host's CPU time in nanoseconds, from /proc/stat's `cpu` line, as dockerd reads it."""
    try:
        with open("/proc/stat") as proc_stat:
            fields = proc_stat.readline().split()[1:8]
    except OSError:
        return 0
    return sum(int(value) for value in fields) * 1_000_000_000 // CLOCK_TICKS
