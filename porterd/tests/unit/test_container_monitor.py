"""The monitor's look at the containers: what its next wait watches comes from that same look."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from types import SimpleNamespace
from typing import Any

from porterd.containers.monitor import Monitor
from porterd.containers.record import Container, State
from porterd.containers.status import Status

LONG = 60.0  # the monitor's interval: a look before it is one something woke


def container(name: str, status: Status, conmon_pid: int) -> Container:
    return Container(
        id=name * 64, name=f"/{name}", created="2026-01-01T00:00:00Z", image="busybox",
        image_id="sha256:" + "0" * 64, image_config={}, lowerdirs=(), config={},
        host_config={}, runtime="porter-runtime",
        state=State(status=status, conmon_pid=conmon_pid),
    )  # fmt: skip


class FakeService:
    """What a tick asks of the service when no container has ended."""

    def __init__(self, containers: list[Container]) -> None:
        self.containers = containers
        self.pumped: list[str] = []
        self.conmon = SimpleNamespace(exit_code=lambda container_id: None)
        self.execs = SimpleNamespace(tick=lambda: None)
        self.listings = 0

    def all(self) -> list[Container]:
        self.listings += 1
        return list(self.containers)

    def pump(self, container: Container) -> Any:
        return SimpleNamespace(pump=lambda: self.pumped.append(container.name))


def test_a_tick_returns_the_conmons_of_the_running_containers_for_the_next_wait() -> None:
    alive = os.getpid()  # a process that is there: the container is still running
    service = FakeService([container("a", Status.RUNNING, alive), container("b", Status.EXITED, 0)])
    monitor = Monitor(service, interval=0.2)  # type: ignore[arg-type]
    try:
        assert monitor.tick() == [alive]
        assert service.pumped == ["/a"]  # only the running container's log is converted
    finally:
        monitor.stop()  # never started: closes its wake pipe


def test_a_tick_lists_the_containers_once_for_its_checks_and_the_health_probes() -> None:
    service = FakeService([container("a", Status.RUNNING, os.getpid())])
    monitor = Monitor(service, interval=0.2)  # type: ignore[arg-type]
    try:
        monitor.tick()
        assert service.listings == 1
    finally:
        monitor.stop()


class CheckRecordingMonitor(Monitor):
    """A monitor whose checks are only counted (a checked conmon that ended is not handled)."""

    def __init__(self, service: FakeService) -> None:
        super().__init__(service, interval=LONG)  # type: ignore[arg-type]
        self.checks = threading.Semaphore(0)

    def check(self, container: Container) -> None:
        self.checks.release()


def test_a_container_started_between_ticks_has_its_exit_noticed_before_the_next_tick() -> None:
    service = FakeService([])
    monitor = CheckRecordingMonitor(service)
    conmon = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                              stdin=subprocess.PIPE)  # fmt: skip
    monitor.start()  # waits LONG: nothing is running yet
    try:
        service.containers.append(container("a", Status.RUNNING, conmon.pid))
        monitor.watch_new()
        assert monitor.checks.acquire(timeout=LONG / 2)  # looked again at once
        conmon.stdin.close()  # type: ignore[union-attr]
        assert monitor.checks.acquire(timeout=LONG / 2)  # its conmon's end woke the monitor
    finally:
        monitor.stop()
        conmon.kill()
        conmon.wait()
