"""Health checks (`HEALTHCHECK`, `--health-cmd`): the container's Healthcheck probe run in
the container every Interval, as dockerd's health monitor does.

A probe is `RUNTIME exec` of the container's own process with the test's command (`CMD`
args, or `CMD-SHELL` through /bin/sh -c), killed after Timeout. The status starts as
`starting`, becomes `healthy` on a success and `unhealthy` after Retries failures in a row
(failures during StartPeriod do not count). The last five results are kept, as dockerd keeps
them, in memory: after a porterd restart the status starts again.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from porter_image.layout.atomic import write_file_atomic
from porterd.clock import now_rfc3339
from porterd.containers.record import Container

if TYPE_CHECKING:
    from porterd.containers.service import ContainerService

DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
KEEP_RESULTS = 5
MAX_OUTPUT = 4096


@dataclass(frozen=True)
class Probe:
    argv: tuple[str, ...]
    interval: float
    timeout: float
    retries: int
    start_period: float

    @classmethod
    def of(cls, container: Container) -> Probe | None:
        """The container's probe; None without one (or with `NONE`)."""
        check = container.config.get("Healthcheck") or {}
        test = check.get("Test") or []
        if not test or test[0] == "NONE":
            return None
        if test[0] == "CMD-SHELL":
            argv: tuple[str, ...] = ("/bin/sh", "-c", " ".join(test[1:]))
        elif test[0] == "CMD":
            argv = tuple(test[1:])
        else:
            argv = ("/bin/sh", "-c", " ".join(test))
        if not argv:
            return None
        return cls(
            argv=argv,
            interval=_seconds(check.get("Interval"), DEFAULT_INTERVAL),
            timeout=_seconds(check.get("Timeout"), DEFAULT_TIMEOUT),
            retries=int(check.get("Retries") or DEFAULT_RETRIES),
            start_period=_seconds(check.get("StartPeriod"), 0.0),
        )


def _seconds(nanoseconds: Any, default: float) -> float:
    return int(nanoseconds) / 1e9 if nanoseconds else default


@dataclass
class Health:
    started: float  # monotonic time of the container's start
    status: str = "starting"
    failing_streak: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    due: float = 0.0
    running: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"Status": self.status, "FailingStreak": self.failing_streak, "Log": self.log}


class HealthChecks:
    def __init__(self, service: ContainerService) -> None:
        self.service = service
        self._health: dict[str, Health] = {}
        self._lock = threading.Lock()

    def of(self, container: Container) -> dict[str, Any] | None:
        with self._lock:
            health = self._health.get(container.id)
            return health.to_json() if health is not None else None

    def tick(self) -> None:
        """Start the probes that are due; forget containers that stopped."""
        now = time.monotonic()
        running = {c.id: c for c in self.service.all() if c.state.status.value == "running"}
        with self._lock:
            for gone in set(self._health) - set(running):
                del self._health[gone]
            due = []
            for container in running.values():
                probe = Probe.of(container)
                if probe is None:
                    continue
                health = self._health.setdefault(
                    container.id, Health(now, due=now + probe.interval)
                )
                if not health.running and health.due <= now:
                    health.running = True
                    due.append((container, probe, health))
        for container, probe, health in due:
            threading.Thread(
                target=self._probe, args=(container, probe, health), daemon=True
            ).start()

    def _probe(self, container: Container, probe: Probe, health: Health) -> None:
        start = now_rfc3339()
        code, output = self._run(container, probe)
        result = {"Start": start, "End": now_rfc3339(), "ExitCode": code, "Output": output}
        with self._lock:
            health.log = [*health.log, result][-KEEP_RESULTS:]
            before = health.status
            if code == 0:
                health.status, health.failing_streak = "healthy", 0
            elif time.monotonic() - health.started > probe.start_period:
                health.failing_streak += 1
                if health.failing_streak >= probe.retries:
                    health.status = "unhealthy"
            health.due = time.monotonic() + probe.interval
            health.running = False
            changed = health.status != before
        if changed:
            self.service.publish(container, f"health_status: {health.status}")

    def _run(self, container: Container, probe: Probe) -> tuple[int, str]:
        paths = self.service.paths(container)
        try:
            process = json.loads((paths.bundle / "config.json").read_bytes())["process"]
        except (OSError, ValueError, KeyError) as error:
            return -1, f"cannot read the container's process: {error}"
        process.update(args=list(probe.argv), terminal=False)
        spec = paths.run / "health.json"
        write_file_atomic(spec, json.dumps(process).encode())
        runtime = self.service.runtime_of(container)
        try:
            result = subprocess.run(
                runtime.command("exec", "--process", str(spec), container.id),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=probe.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return -1, f"Health check exceeded timeout ({probe.timeout:g}s)"
        output = (result.stdout + result.stderr)[:MAX_OUTPUT].decode(errors="replace")
        return result.returncode, output
