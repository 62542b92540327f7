"""A node that left the cluster (its record deleted while porterd runs) shuts its tasks down:
its agent stops and removes every task container, as a swarm node leaving does."""

from __future__ import annotations

from typing import Any

from porterd.cluster.agent import Agent

from ...cluster_support import FakeRuntime

STORE: Any = None  # removing the containers asks nothing of the cluster's store


def body(task_id: str) -> dict[str, Any]:
    return {"Image": "busybox", "Labels": {"com.docker.swarm.task.id": task_id}}


def test_every_task_container_is_removed_running_or_not() -> None:
    runtime = FakeRuntime()
    for task_id in ("t1", "t2", "t3"):
        runtime.run(f"web.{task_id}", body(task_id))
    runtime.exit("t3", 1)
    Agent(STORE, "n1", runtime).remove_all()
    assert runtime.containers == {}


class StuckRuntime(FakeRuntime):
    """A runtime whose removal of one container fails."""

    def remove(self, container_id: str) -> None:
        if container_id == self.containers["t1"].container_id:
            raise OSError("device or resource busy")
        super().remove(container_id)


def test_a_container_whose_removal_fails_holds_up_none_of_the_others() -> None:
    runtime = StuckRuntime()
    for task_id in ("t1", "t2"):
        runtime.run(f"web.{task_id}", body(task_id))
    Agent(STORE, "n1", runtime).remove_all()
    assert list(runtime.containers) == ["t1"]
