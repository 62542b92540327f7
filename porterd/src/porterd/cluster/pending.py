"""Tasks waiting for a node, as swarm keeps them: a replica slot no node can take (none
satisfies the constraints, or none has room for the reservations) holds a task in state
`pending` on no node, its `Err` saying why, so that `service ps` and `service inspect`'s
readers see it; the scheduler places the task once a node can take it, and shuts it down
when its slot is scaled away."""

from __future__ import annotations

from typing import Any

from porterd.cluster.scheduler import is_current
from porterd.cluster.store import new_task, now

MESSAGE = "pending task scheduling"


def waiting(
    service: dict[str, Any], slot: int, held: dict[str, Any] | None, reason: str
) -> dict[str, Any] | None:
    """The task to store for `slot`, which no node can take for `reason`: the slot's task
    waiting already (`held`) with the reason, or a new one; None if `held` says so already."""
    task = held if held is not None else new_task(service, slot, "")
    status = task["Status"]
    if (status.get("State"), status.get("Err")) == ("pending", reason):
        return None
    return {
        **task,
        "NodeID": "",
        "Status": {"State": "pending", "Message": MESSAGE, "Err": reason, "Timestamp": now()},
    }


def placed(
    service: dict[str, Any], slot: int | None, held: dict[str, Any] | None, node_id: str
) -> list[dict[str, Any]]:
    """The tasks to store once `slot` is placed on `node_id`: its waiting task (`held`)
    assigned there when it is of the current spec; else a new task, and `held` shut down."""
    if held is not None and is_current(held, service):
        status = {"State": "assigned", "Message": "scheduled", "Timestamp": now()}
        return [{**held, "NodeID": node_id, "Status": status}]
    fresh = [new_task(service, slot, node_id)]
    if held is None:
        return fresh
    return [*fresh, {**held, "DesiredState": "shutdown"}]
