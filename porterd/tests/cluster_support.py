"""A cluster of agents without porterd: each node's TaskRuntime is a recording fake, so the
reconciler, the agents and the store are tested together against a real etcd."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from porterd.cluster.agent import Agent, Observed
from porterd.cluster.store import ClusterStore
from porterd.errors import NotFound

_ids = itertools.count(1)


class FakeRuntime:
    """Containers as records: run() makes a running one, exit() ends it, set_health() sets
    what its health check found, remove() drops it."""

    def __init__(self, refuse_images: tuple[str, ...] = ()) -> None:
        self.containers: dict[str, Observed] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self.refuse_images = refuse_images
        self.cpu: float | None = None

    def run(self, name: str, body: dict[str, Any]) -> str:
        if body["Image"] in self.refuse_images:
            raise NotFound(f"No such image: {body['Image']}")
        task_id = body["Labels"]["com.docker.swarm.task.id"]
        container_id = f"c{next(_ids)}"
        self.containers[task_id] = Observed(container_id, running=True)
        self.bodies[task_id] = body
        return container_id

    def observe(self) -> dict[str, Observed]:
        return {
            task: Observed(
                seen.container_id,
                seen.running,
                seen.exit_code,
                health=seen.health,
                cpu_percent=self.cpu,
            )
            if seen.running
            else seen
            for task, seen in self.containers.items()
        }

    def remove(self, container_id: str) -> None:
        for task, seen in list(self.containers.items()):
            if seen.container_id == container_id:
                del self.containers[task]

    def exit(self, task_id: str, code: int) -> None:
        seen = self.containers[task_id]
        self.containers[task_id] = Observed(seen.container_id, running=False, exit_code=code)

    def set_health(self, task_id: str, health: str) -> None:
        seen = self.containers[task_id]
        self.containers[task_id] = Observed(seen.container_id, seen.running, health=health)

    def running(self) -> list[str]:
        return [task for task, seen in self.containers.items() if seen.running]


def node_agent(store: ClusterStore, node_id: str, runtime: FakeRuntime) -> Agent:
    return Agent(store, node_id, runtime)


def settle(rounds: Callable[[], None], check: Callable[[], bool], timeout: float = 20) -> None:
    """Run `rounds` until `check` holds."""
    deadline = time.monotonic() + timeout
    while True:
        rounds()
        if check():
            return
        assert time.monotonic() < deadline, "the cluster did not settle in time"
        time.sleep(0.05)
