"""`GET /containers/{id}/stats`: the runtime's statistics (`RUNTIME events --stats`) in
dockerd's shape, with the previous sample as `precpu_stats` so clients can compute a CPU %."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from porterd.containers.record import ZERO_TIME, now_rfc3339
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
        "blkio_stats": {},
        "networks": {},
    }


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
