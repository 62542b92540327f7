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

As swarm's updater, a new task is watched for `Monitor` once it is up: one that fails or
turns unhealthy in that window (or before it was ever up) counts as a failure, and the
failure action is taken once more than `MaxFailureRatio` of the tasks to update have failed
(the default 0: the first failure). A failure within the ratio is replaced (an unhealthy task
shut down, a failed one's slot filled by the scheduler) and the update goes on; a task that
fails after its window is no failure of the update. The update completes `Monitor` after its
last batch is up. The status keeps what it needs for that: `UpAt` (task id -> when it was
first seen up), `Failed` (the ids of the failures counted) and `Dirty` (how many tasks it updates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from porterd.cluster.scheduler import is_current, is_live

FAILED = frozenset({"failed", "rejected"})
ACTIVE = {"updating": "update", "rollback_started": "rollback"}
ROLLED_BACK = "update rolled back"
MONITORING = ("UpAt", "Failed", "Dirty", "NextBatchAt")  # an update's own bookkeeping


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


def _timestamp(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError):
        return None


def _failed(task: dict[str, Any]) -> str | None:
    """Why a task is a failure (failed, rejected, or running unhealthy), or None."""
    status = task["Status"]
    if status["State"] in FAILED:
        return f"task {task['ID'][:12]} failed: {status.get('Err') or status.get('Message')}"
    if is_live(task) and status.get("ContainerStatus", {}).get("Health") == "unhealthy":
        return f"task {task['ID'][:12]} is unhealthy"
    return None


def failures(
    service: dict[str, Any], tasks: list[dict[str, Any]], status: dict[str, Any], monitor: float
) -> dict[str, str]:
    """Task id -> why, of the update's new tasks that failed before they were up or within
    `monitor` seconds after."""
    found = {}
    up_at = status.get("UpAt") or {}
    for task in tasks:
        if not is_current(task, service) or task.get("CreatedAt", "") < status.get("StartedAt", ""):
            continue
        why = _failed(task)
        if why is None:
            continue
        failed_at = _timestamp(task["Status"].get("Timestamp", ""))
        began = up_at.get(task["ID"])
        if began is None or failed_at is None or failed_at - began <= monitor:
            found[task["ID"]] = why
    return found


def _stamp(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def update_step(service: dict[str, Any], tasks: list[dict[str, Any]], now: float) -> UpdateStep:
    """The next step of `service`'s update or rollback at time `now` (seconds since the epoch)."""
    status = dict(service.get("UpdateStatus") or {})
    kind = ACTIVE.get(status.get("State", ""))
    if kind is None:
        return UpdateStep()
    spec = service["Spec"]
    config = spec["RollbackConfig" if kind == "rollback" else "UpdateConfig"]
    failed = failures(service, tasks, status, config["Monitor"] / 1e9)
    new_failures = {
        task_id: why for task_id, why in failed.items() if task_id not in status.get("Failed", [])
    }
    counted = sorted({*status.get("Failed", []), *failed})
    ratio = len(counted) / max(status.get("Dirty", 0), 1)
    if (
        new_failures
        and ratio > config.get("MaxFailureRatio", 0)
        and config["FailureAction"] != "continue"
    ):
        failure = next(iter(new_failures.values()))
        if kind == "update" and config["FailureAction"] == "rollback":
            return UpdateStep(
                status={
                    "State": "rollback_started",
                    "StartedAt": _stamp(now),
                    "Message": f"{ROLLED_BACK}: {failure}",
                },
                rollback=True,
            )
        state = "paused" if kind == "update" else "rollback_paused"
        return UpdateStep(status={**status, "State": state, "Message": f"{kind} paused: {failure}"})
    live = [task for task in tasks if is_live(task)]
    # A new task's monitor window begins when it is first seen up.
    up_at = status.get("UpAt") or {}
    seen_up = {
        task["ID"]: now
        for task in live
        if is_current(task, service) and task["ID"] not in up_at and is_up(task)
    }
    if seen_up:
        status["UpAt"] = {**up_at, **seen_up}
    unchanged = status if seen_up else None  # what a step that does nothing else stores
    # Within the ratio the update goes on: a failure is counted, and a new task unhealthy is
    # replaced (the scheduler fills its slot), as is one past its window (no failure).
    sick = [task for task in live if is_current(task, service) and _failed(task)]
    if new_failures or sick:
        status["Failed"] = counted
        return UpdateStep(replace=sick, status=status if new_failures else unchanged)
    if any(is_current(task, service) and not is_up(task) for task in live):
        return UpdateStep(status=unchanged)  # the batch under way is not up yet
    outdated = sorted(
        (task for task in live if not is_current(task, service)),
        key=lambda task: (task.get("Slot") or 0, task["NodeID"]),
    )
    if status.pop("BatchStarted", False):  # the batch is up: the delay, or the last window
        wait = config["Delay"] if outdated else config["Monitor"]
        if wait:
            status["NextBatchAt"] = now + wait / 1e9
            return UpdateStep(status=status)
    if now < status.get("NextBatchAt", 0):
        return UpdateStep(status=unchanged)
    if not outdated:
        done = "completed" if kind == "update" else "rollback_completed"
        message = f"{kind} completed"
        if status.get("Message", "").startswith(ROLLED_BACK):  # keep why it was rolled back
            message = f"{status['Message']}; {message}"
        kept = {k: v for k, v in status.items() if k not in MONITORING}
        return UpdateStep(status={**kept, "State": done, "Message": message})
    status.setdefault("Dirty", len(outdated))
    status.pop("NextBatchAt", None)  # waited for: no more rounds asked for at that time
    batch = outdated[: config["Parallelism"] or len(outdated)]
    status["BatchStarted"] = True
    return UpdateStep(replace=batch, order=config["Order"], status=status)
