"""The monitor's look at the containers: what its next wait watches comes from that same look."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from porterd.containers import monitor as monitor_module
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


class ExitRecordingService(FakeService):
    """What recording an exit asks of the service; what the runtime was asked to do is kept."""

    def __init__(self, containers: list[Container], folder: Path, exit_code: int | None) -> None:
        super().__init__(containers)
        self.runtime_calls: list[str] = []
        self.networks = None
        self.gates = SimpleNamespace(close=lambda container_id: None)
        self.conmon = SimpleNamespace(
            exit_code=lambda container_id: exit_code, exit_file=lambda container_id: folder / "exit"
        )
        self.runtime = SimpleNamespace(
            delete=lambda container_id, force: self.runtime_calls.append("delete"),
            kill=lambda container_id, signal, all_processes: self.runtime_calls.append("kill"),
        )
        self.paths = lambda container: SimpleNamespace(persist=folder)

    def runtime_of(self, container: Container) -> Any:
        return self.runtime

    def release_rootfs(self, paths: Any) -> None: ...
    def save(self, container: Container) -> None: ...
    def publish(self, container: Container, action: str, **attributes: str) -> None: ...
    def notify(self) -> None: ...


@pytest.mark.parametrize("exit_code", [0, None], ids=["exit-file", "conmon-killed"])
def test_an_exit_found_for_a_run_is_not_recorded_on_the_run_started_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int | None
) -> None:
    ended = container("a", Status.RUNNING, conmon_pid=4_000_000)  # its conmon has ended
    ended.state.started_at = "2026-01-01T00:00:01Z"
    service = ExitRecordingService([ended], tmp_path, exit_code)
    monitor = Monitor(service, interval=LONG)  # type: ignore[arg-type]
    alive = os.getpid()

    def other_thread_recorded_the_exit_and_started_it_again(pid: int) -> bool:
        """Between this look at conmon and the exit's record, a stop recorded that exit and a
        start (restart) ran the container again."""
        if pid == alive:
            return True
        ended.state = State(
            status=Status.RUNNING, conmon_pid=alive, started_at="2026-01-01T00:00:02Z"
        )
        return False

    monkeypatch.setattr(
        monitor_module, "pid_alive", other_thread_recorded_the_exit_and_started_it_again
    )
    try:
        monitor.check(ended)
        assert (ended.state.status, ended.state.conmon_pid) == (Status.RUNNING, alive)
        assert service.runtime_calls == []  # the new run was neither killed nor deleted
        assert monitor.exits(ended) == 0
    finally:
        monitor.stop()


class Clock:
    """The monitor's `time`, moved on by hand: monotonic seconds since the test began."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_800_000_000.0 + self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(monitor_module, "time", clock)
    return clock


def running(name: str, started_at: str) -> Container:
    """A container whose conmon (this process) is alive after writing the exit file."""
    ran = container(name, Status.RUNNING, os.getpid())
    ran.state.started_at = started_at
    return ran


def test_a_later_run_gets_its_own_grace_after_conmon_wrote_the_exit_file(
    tmp_path: Path, clock: Clock
) -> None:
    ran = running("a", "2026-01-01T00:00:01Z")
    service = ExitRecordingService([ran], tmp_path, exit_code=0)
    monitor = Monitor(service, interval=LONG)  # type: ignore[arg-type]
    try:
        monitor.check(ran)  # the first run's exit file is seen: its grace starts
        # a stop in another thread records that exit: the monitor's grace of it is left
        monitor.handle_exit(ran, monitor_module.run_of(ran), 0, "")
        ran.state = State(
            status=Status.RUNNING, conmon_pid=os.getpid(), started_at="2026-01-01T00:00:02Z"
        )
        clock.now = monitor_module.CONMON_EXIT_GRACE * 2
        monitor.check(ran)  # the second run's exit file: not the first run's grace
        assert (ran.state.status, monitor.exits(ran)) == (Status.RUNNING, 1)
        clock.now += monitor_module.CONMON_EXIT_GRACE + 1
        monitor.check(ran)
        assert (ran.state.status, monitor.exits(ran)) == (Status.EXITED, 2)
    finally:
        monitor.stop()


@dataclass
class ExitSeen:
    container: Container
    service: ExitRecordingService
    monitor: Monitor


@pytest.fixture
def exit_seen(tmp_path: Path, clock: Clock) -> Iterator[ExitSeen]:
    """A monitor that saw a running container's exit file on a tick, its grace under way."""
    ran = running("a", "2026-01-01T00:00:01Z")
    service = ExitRecordingService([ran], tmp_path, exit_code=0)
    monitor = Monitor(service, interval=LONG)  # type: ignore[arg-type]
    try:
        monitor.tick()
        assert ran.id in monitor._exit_seen
        yield ExitSeen(container=ran, service=service, monitor=monitor)
    finally:
        monitor.stop()


def test_the_grace_of_a_removed_container_is_forgotten_on_the_next_tick(
    exit_seen: ExitSeen,
) -> None:
    exit_seen.service.containers.remove(exit_seen.container)
    exit_seen.monitor.tick()
    assert exit_seen.monitor._exit_seen == {}


def test_the_grace_of_a_run_whose_exit_another_path_recorded_is_forgotten_on_the_next_tick(
    exit_seen: ExitSeen,
) -> None:
    ran, monitor = exit_seen.container, exit_seen.monitor
    monitor.handle_exit(ran, monitor_module.run_of(ran), 0, "")  # a stop's reap, say
    monitor.tick()
    assert monitor._exit_seen == {}
