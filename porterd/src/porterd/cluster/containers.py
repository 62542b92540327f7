"""The agent's TaskRuntime over porterd's own container service and image store: a task's
container is created (its image pulled first when missing, as the docker CLI would), started,
watched, stopped and removed through their public calls.

CPU use comes from the runtime's cgroup statistics (`RUNTIME events --stats`, as `docker
stats` reads them), sampled every CPU_INTERVAL seconds on a thread of its own, as a percentage
of one core.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any, Protocol

from porter_image.reference import InvalidReferenceError, parse_docker_reference

from porterd.cluster.agent import TASK_LABEL, Observed
from porterd.containers.logs import LogEntry, LogFollower, LogQuery, read_entries
from porterd.containers.service import ContainerService
from porterd.containers.stats import sample_stats
from porterd.errors import DaemonError, InvalidParameter, NotFound

log = logging.getLogger(__name__)

CPU_INTERVAL = 5.0
STOP_TIMEOUT = 10


class Puller(Protocol):
    def pull(self, reference: Any, emit: Any) -> Any: ...


class ContainerTasks:
    def __init__(self, containers: ContainerService, images: Puller | None) -> None:
        self.containers = containers
        self.images = images
        # container id -> (when, CPU time in ns, percent): written by the sampler thread only.
        self._cpu: dict[str, tuple[float, int, float | None]] = {}
        self._sampler = threading.Thread(target=self._sample, name="cluster-cpu", daemon=True)
        self._sampler.start()

    def run(self, name: str, body: dict[str, Any]) -> str:
        try:
            container = self.containers.create(body, name)
        except NotFound:
            if self.images is None:
                raise
            self._pull(body["Image"])
            container = self.containers.create(body, name)
        self.containers.start(container.id)
        return container.id

    def _pull(self, image: str) -> None:
        try:
            reference = parse_docker_reference(image)
        except InvalidReferenceError as error:
            raise InvalidParameter(f"invalid image {image!r}: {error}") from error
        if self.images is not None:
            self.images.pull(reference, lambda message: None)

    def observe(self) -> dict[str, Observed]:
        found: dict[str, Observed] = {}
        for container in self.containers.all():
            task_id = (container.config.get("Labels") or {}).get(TASK_LABEL)
            if not task_id:
                continue
            state = container.state
            running = state.status.is_running()
            health = self.containers.monitor.health.of(container)
            found[task_id] = Observed(
                container_id=container.id,
                running=running,
                exit_code=state.exit_code,
                error=state.error,
                health=(health or {}).get("Status"),
                cpu_percent=self._cpu.get(container.id, (0, 0, None))[2] if running else None,
                ports=self._published(container.id) if running else (),
            )
        return found

    def _published(self, container_id: str) -> tuple[tuple[str, int, int], ...]:
        """(protocol, target, host port) of each port the container publishes."""
        networks = self.containers.networks
        if networks is None:
            return ()
        return tuple(
            sorted(
                (b.protocol, b.container_port, b.host_port)
                for b in networks.published(container_id)
            )
        )

    def _sample(self) -> None:
        """Every CPU_INTERVAL, the CPU use of each running task container, off the agent's
        loop: each sample runs the OCI runtime once, too slow for every round."""
        while True:
            time.sleep(CPU_INTERVAL)
            try:
                for container in self.containers.all():
                    labels = container.config.get("Labels") or {}
                    if TASK_LABEL in labels and container.state.status.is_running():
                        self._cpu[container.id] = self._cpu_percent(container)
            except Exception:
                log.exception("sampling the CPU use of task containers failed")

    def _cpu_percent(self, container: Any) -> tuple[float, int, float | None]:
        clock = time.monotonic()
        last = self._cpu.get(container.id)
        usage = sample_stats(self.containers, container)["cpu_stats"]["cpu_usage"]["total_usage"]
        percent = None
        if last is not None and usage >= last[1]:
            percent = (usage - last[1]) / ((clock - last[0]) * 1e9) * 100
        return (clock, usage, percent)

    def log_entries(self, container_id: str, query: LogQuery) -> list[LogEntry]:
        """What the task container's json-file log holds, as `query` asks ([] once removed)."""
        try:
            container = self.containers.get(container_id)
        except NotFound:
            return []
        if container.state.status.is_running():
            self.containers.pump(container).pump()
        paths = self.containers.paths(container)
        return read_entries(paths.json_log, self.containers.log_options(container), query)

    def log_follower(self, container_id: str) -> LogFollower | None:
        try:
            return LogFollower(self.containers.paths(self.containers.get(container_id)).json_log)
        except NotFound:
            return None

    def is_running(self, container_id: str) -> bool:
        """Whether the task container runs; its log is brought up to date when it does."""
        try:
            container = self.containers.get(container_id)
        except NotFound:
            return False
        running = container.state.status.is_running()
        if running:
            self.containers.pump(container).pump()
        return running

    def remove(self, container_id: str) -> None:
        self._cpu.pop(container_id, None)
        with contextlib.suppress(NotFound):
            with contextlib.suppress(DaemonError):
                self.containers.stop(container_id, timeout=STOP_TIMEOUT)
            self.containers.remove(container_id, force=True)
