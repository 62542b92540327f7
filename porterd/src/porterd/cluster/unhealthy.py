"""A task whose container its health check finds unhealthy fails, as swarm's agent has it
(its controller's Wait ends with ErrContainerUnhealthy): the node's agent reports the task
failed with swarm's error and stops its container, and the scheduler starts a new task in
its slot as the service's restart policy has it (porterd.cluster.restart_slots): at once for
a service without one.

A task failed so is final: its container, still running while its stop is under way or seen
healthy again meanwhile, never brings it back to running.
"""

from __future__ import annotations

from typing import Any

ERR = "dockerexec: unhealthy container"  # swarm's ErrContainerUnhealthy, as service ps shows it
MESSAGE = "container unhealthy"


def failed_unhealthy(task: dict[str, Any]) -> bool:
    """Whether the task was reported failed for its container's health."""
    status = task["Status"]
    return status["State"] == "failed" and status.get("Err") == ERR


def condemned(task: dict[str, Any], running: bool, health: str | None) -> bool:
    """Whether the container of a task meant to run is to be stopped for its health: it runs
    and its health check found it unhealthy, or its task failed so already."""
    return failed_unhealthy(task) or (running and health == "unhealthy")


def failure(task: dict[str, Any], container_id: str) -> dict[str, Any] | None:
    """The status that reports the task failed for its container's health, or None when it
    was reported already."""
    if failed_unhealthy(task):
        return None
    return {
        "State": "failed",
        "Message": MESSAGE,
        "Err": ERR,
        "ContainerStatus": {"ContainerID": container_id, "Health": "unhealthy"},
    }
