"""Health checks (`HEALTHCHECK`, `--health-cmd`): the container's Healthcheck probe run in
the container every Interval, as dockerd's health monitor does.

A probe is `RUNTIME exec` of the container's own process with the test's command (`CMD`
args, or `CMD-SHELL` through /bin/sh -c), killed after Timeout. The status starts as
`starting`, becomes `healthy` on a success and `unhealthy` after Retries failures in a row
(failures during StartPeriod do not count). The last five results are kept, as dockerd keeps
them in the container's state: each result is also written to the container's run folder, so
that after a porterd restart a container still running keeps its status, streak and results
and its probes go on; a new start of the container begins again at `starting`.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from porter_image.layout.atomic import write_file_atomic
from porterd.clock import now_rfc3339, time_ns
from porterd.containers.record import Container
from porterd.containers.status import Status

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
    started_at: str  # the container's State.StartedAt: which run of it this is about
    status: str = "starting"
    failing_streak: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    due: float = 0.0
    running: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"Status": self.status, "FailingStreak": self.failing_streak, "Log": self.log}

    @classmethod
    def of_run(cls, container: Container, interval: float, saved: Path) -> Health:
        """The health of the container's current run: what `saved` holds of it (written
        before a porterd restart), else a new one, `starting`."""
        started_at = container.state.started_at
        now = time.monotonic()
        ran_for = 0.0
        with contextlib.suppress(ValueError):
            ran_for = max(0.0, time.time() - time_ns(started_at) / 1e9)
        health = cls(now - ran_for, started_at, due=now + interval)
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            kept = json.loads(saved.read_bytes())
            if kept["StartedAt"] == started_at:
                health.status = str(kept["Status"])
                health.failing_streak = int(kept["FailingStreak"])
                health.log = list(kept["Log"])[-KEEP_RESULTS:]
        return health

    def save(self, saved: Path) -> None:
        document = {"StartedAt": self.started_at, **self.to_json()}
        write_file_atomic(saved, json.dumps(document).encode())


class HealthChecks:
    def __init__(self, service: ContainerService) -> None:
        self.service = service
        self._health: dict[str, Health] = {}
        self._lock = threading.Lock()

    def of(self, container: Container) -> dict[str, Any] | None:
        probe = Probe.of(container)
        with self._lock:
            health = self._health.get(container.id)
            if health is None and probe is not None and _probed(container):
                health = self._entry(container, probe)
            return health.to_json() if health is not None else None

    def tick(self, containers: Iterable[Container]) -> None:
        """Start the probes that are due among `containers` (those the monitor watches);
        forget the containers that are no longer running."""
        now = time.monotonic()
        running = {c.id: c for c in containers if _probed(c)}
        with self._lock:
            for gone in set(self._health) - set(running):
                del self._health[gone]
            due = []
            for container in running.values():
                probe = Probe.of(container)
                if probe is None:
                    continue
                health = self._entry(container, probe)
                if not health.running and health.due <= now:
                    health.running = True
                    due.append((container, probe, health))
        for container, probe, health in due:
            threading.Thread(
                target=self._probe, args=(container, probe, health), daemon=True
            ).start()

    def _entry(self, container: Container, probe: Probe) -> Health:
        """The container's health, made (or read back after a restart) the first time."""
        health = self._health.get(container.id)
        if health is None or health.started_at != container.state.started_at:
            health = Health.of_run(container, probe.interval, self._saved(container))
            self._health[container.id] = health
        return health

    def _saved(self, container: Container) -> Path:
        return self.service.paths(container).run / "health-state.json"

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
            with contextlib.suppress(OSError):  # the container may be gone with its folder
                health.save(self._saved(container))
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


def _probed(container: Container) -> bool:
    """Whether the container's probes run: only while it runs (not paused, not restarting)."""
    return container.state.status is Status.RUNNING
