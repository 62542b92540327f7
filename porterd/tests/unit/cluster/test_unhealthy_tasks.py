"""A task whose container turns unhealthy fails as swarm's agent has it: the agent reports it
failed with swarm's error and stops its container, and never reports it running again."""

from __future__ import annotations

import threading
import time
from typing import Any

from porterd.cluster import unhealthy
from porterd.cluster.agent import Agent, Observed

from ...cluster_support import FakeRuntime
from .test_agent import task as agent_task


def task(**status: Any) -> dict[str, Any]:
    """test_agent's task (t1 of service web on node n1), running unless `status` says not."""
    return agent_task(**{"State": "running", **status})


class FakeStore:
    """The store's tasks in memory: a write always succeeds and is recorded."""

    def __init__(self, *tasks: dict[str, Any]) -> None:
        self.written: list[dict[str, Any]] = []
        self._tasks = {t["ID"]: t for t in tasks}
        self._lock = threading.Lock()

    def tasks(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._tasks.values())

    def write_tasks(self, tasks: list[dict[str, Any]]) -> bool:
        with self._lock:
            for written in tasks:
                self._tasks[written["ID"]] = written
                self.written.append(written)
        return True


def agent_over(status: dict[str, Any], health: str) -> tuple[Agent, FakeStore, FakeRuntime]:
    """An agent whose node runs task t1 (of `status`) in a container seen with `health`."""
    store, runtime = FakeStore(task(**status)), FakeRuntime()
    runtime.containers["t1"] = Observed("c1", running=True, health=health)
    return Agent(store, "n1", runtime), store, runtime  # type: ignore[arg-type]


def removed(runtime: FakeRuntime) -> bool:
    """Whether the agent's removal (on a thread of its own) took every container, within 5 s."""
    deadline = time.monotonic() + 5
    while runtime.containers and time.monotonic() < deadline:
        time.sleep(0.01)
    return not runtime.containers


def test_a_running_unhealthy_container_condemns_its_task() -> None:
    assert unhealthy.condemned(task(), running=True, health="unhealthy")


def test_a_healthy_starting_or_unchecked_container_is_left_running() -> None:
    for health in ("healthy", "starting", None):
        assert not unhealthy.condemned(task(), running=True, health=health)


def test_the_failure_carries_swarm_s_error() -> None:
    failure = unhealthy.failure(task(), "c1")
    assert failure is not None
    assert (failure["State"], failure["Err"]) == ("failed", "dockerexec: unhealthy container")
    assert failure["ContainerStatus"] == {"ContainerID": "c1", "Health": "unhealthy"}


def test_a_task_failed_unhealthy_stays_failed_whatever_its_container_does() -> None:
    failed = task(State="failed", Err=unhealthy.ERR)
    assert unhealthy.condemned(failed, running=True, health="healthy")
    assert unhealthy.condemned(failed, running=False, health=None)
    assert unhealthy.failure(failed, "c1") is None


def test_a_task_that_exited_is_no_health_failure() -> None:
    exited = task(State="failed", Err="task exited with code 1")
    assert not unhealthy.condemned(exited, running=False, health=None)


def test_the_agent_reports_an_unhealthy_task_failed_and_stops_its_container() -> None:
    agent, store, runtime = agent_over({}, "unhealthy")
    agent.sync_once()
    assert [(t["Status"]["State"], t["Status"]["Err"]) for t in store.written] == [
        ("failed", unhealthy.ERR)
    ]
    assert removed(runtime)


def test_the_agent_never_reports_a_task_failed_unhealthy_running_again() -> None:
    agent, store, runtime = agent_over({"State": "failed", "Err": unhealthy.ERR}, "healthy")
    agent.sync_once()
    assert store.written == []
    assert removed(runtime)
