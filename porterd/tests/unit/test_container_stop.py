"""stop and restart against a fake service and monitor: stop succeeds only once the exit is
recorded, and restart starts a container that ended on its own before its stop."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from porterd.containers.record import Container, State
from porterd.containers.status import Status
from porterd.containers.stopping import restart, stop
from porterd.errors import Conflict


class FakeService:
    """One container; the monitor never sees its process end; signals and starts are kept."""

    def __init__(self, status: Status) -> None:
        self.container = SimpleNamespace(
            id="c" * 64, lock=threading.RLock(), config={}, manually_stopped=False,
            state=State(status=status, pid=0, conmon_pid=0),
        )  # fmt: skip
        self.signals: list[str] = []
        self.starts = 0
        self.gets = 0
        self.monitor = SimpleNamespace(
            exits=lambda container: 0, reap=lambda container, timeout: False
        )

    def get(self, ref: str) -> Any:
        self.gets += 1
        return self.container

    def save(self, container: Container) -> None: ...
    def publish(self, container: Container, action: str) -> None: ...

    def wait_exit(self, container: Container, generation: int, timeout: float | None) -> bool:
        return False

    def runtime_of(self, container: Container) -> Any:
        return SimpleNamespace(
            kill=lambda container_id, signal, all_processes: self.signals.append(signal)
        )

    def start_locked(self, container: Container) -> None:
        self.starts += 1
        container.state.status = Status.RUNNING


def test_a_stop_fails_when_the_container_did_not_exit_even_after_sigkill() -> None:
    service = FakeService(Status.RUNNING)
    with pytest.raises(Conflict, match="did not exit"):
        stop(service, "c", timeout=1)  # type: ignore[arg-type]
    assert service.signals == ["SIGTERM", "SIGKILL"]


class EndingService(FakeService):
    """A container whose process ends on its own between restart's look and its stop's."""

    def get(self, ref: str) -> Any:
        if self.gets == 1:
            self.container.state.status = Status.EXITED
        return super().get(ref)


def test_a_restart_starts_a_container_that_ended_before_its_stop() -> None:
    service = EndingService(Status.RUNNING)
    restart(service, "c")  # type: ignore[arg-type]
    assert (service.starts, service.container.state.status) == (1, Status.RUNNING)
