"""Rolling updates as a pure decision: given a service being updated (or rolled back) and its
tasks, which tasks to replace now and what the update's status becomes.

Batches of `Parallelism` outdated tasks (0: all at once) are replaced; the next batch waits
until every task of the new spec is up (running, and healthy if its spec has a health check:
a task whose first probe has not run yet is not up) and then `Delay` more. A task of the new
spec that fails or turns unhealthy stops the update: `FailureAction` pause leaves it paused,
rollback brings the previous spec back (rolled out with RollbackConfig, its status keeping the
failure that caused it), continue carries on. With `Order` stop-first the old task of a slot is
shut down and the scheduler fills the slot; with start-first a new task joins the slot and
the scheduler shuts the old one down once the new one runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from porterd.cluster.scheduler import is_current, is_live

FAILED = frozenset({"failed", "rejected"})
ACTIVE = {"updating": "update", "rollback_started": "rollback"}
ROLLED_BACK = "update rolled back"


@dataclass
class UpdateStep:
    replace: list[dict[str, Any]] = field(default_factory=list)  # outdated tasks to replace now
    order: str = "stop-first"
    status: dict[str, Any] | None = None  # the UpdateStatus to store, if it changes
    rollback: bool = False  # bring PreviousSpec back


def has_health_check(task: dict[str, Any]) -> bool:
    test = (task["Spec"].get("ContainerSpec", {}).get("Healthcheck") or {}).get("Test") or []
    return bool(test) and test[0] != "NONE"


def is_up(task: dict[str, Any]) -> bool:
    """Running, and healthy when its spec has a health check: a container just started has
    no health yet, and that is not up (its first probe has not passed)."""
    status = task["Status"]
    health = (status.get("ContainerStatus") or {}).get("Health")
    if has_health_check(task):
        return status["State"] == "running" and health == "healthy"
    return status["State"] == "running" and health in (None, "", "healthy", "none")


def _failure(service: dict[str, Any], tasks: list[dict[str, Any]], since: str) -> str | None:
    for task in tasks:
        if not is_current(task, service) or task.get("CreatedAt", "") < since:
            continue
        status = task["Status"]
        if status["State"] in FAILED:
            return f"task {task['ID'][:12]} failed: {status.get('Err') or status.get('Message')}"
        if is_live(task) and status.get("ContainerStatus", {}).get("Health") == "unhealthy":
            return f"task {task['ID'][:12]} is unhealthy"
    return None


def update_step(service: dict[str, Any], tasks: list[dict[str, Any]], now: float) -> UpdateStep:
    """The next step of `service`'s update or rollback at time `now` (seconds since the epoch)."""
    status = dict(service.get("UpdateStatus") or {})
    kind = ACTIVE.get(status.get("State", ""))
    if kind is None:
        return UpdateStep()
    spec = service["Spec"]
    config = spec["RollbackConfig" if kind == "rollback" else "UpdateConfig"]
    failure = _failure(service, tasks, status.get("StartedAt", ""))
    if failure is not None and config["FailureAction"] != "continue":
        if kind == "update" and config["FailureAction"] == "rollback":
            return UpdateStep(
                status={
                    "State": "rollback_started",
                    "StartedAt": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "Message": f"{ROLLED_BACK}: {failure}",
                },
                rollback=True,
            )
        state = "paused" if kind == "update" else "rollback_paused"
        return UpdateStep(status={**status, "State": state, "Message": f"{kind} paused: {failure}"})
    live = [task for task in tasks if is_live(task)]
    if any(is_current(task, service) and not is_up(task) for task in live):
        return UpdateStep()  # the batch under way is not up yet
    outdated = sorted(
        (task for task in live if not is_current(task, service)),
        key=lambda task: (task.get("Slot") or 0, task["NodeID"]),
    )
    if not outdated:
        done = "completed" if kind == "update" else "rollback_completed"
        message = f"{kind} completed"
        if status.get("Message", "").startswith(ROLLED_BACK):  # keep why it was rolled back
            message = f"{status['Message']}; {message}"
        return UpdateStep(status={**status, "State": done, "Message": message})
    if status.pop("BatchStarted", False) and config["Delay"]:
        status["NextBatchAt"] = now + config["Delay"] / 1e9
        return UpdateStep(status=status)
    if now < status.get("NextBatchAt", 0):
        return UpdateStep()
    batch = outdated[: config["Parallelism"] or len(outdated)]
    status["BatchStarted"] = True
    return UpdateStep(replace=batch, order=config["Order"], status=status)
