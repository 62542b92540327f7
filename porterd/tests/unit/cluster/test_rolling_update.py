"""porterd.cluster.updates.update_step: batches, delay, order and failure actions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from porterd.cluster.spec import normalized
from porterd.cluster.updates import update_step

_ids = itertools.count(1)
OLD = {"ContainerSpec": {"Image": "busybox:1"}}
STARTED = "2026-01-01T00:00:00Z"


def service(state: str = "updating", **update: Any) -> dict[str, Any]:
    spec = normalized(
        {
            "Name": "web",
            "TaskTemplate": {"ContainerSpec": {"Image": "busybox:2"}},
            "Mode": {"Replicated": {"Replicas": 4}},
            "UpdateConfig": update,
        }
    )
    status = {"State": state, "StartedAt": STARTED}
    return {"ID": "svc", "Spec": spec, "UpdateStatus": status}


def task(svc: dict, slot: int, *, new: bool, state: str = "running", **status: Any) -> dict:
    return {
        "ID": f"task{next(_ids):08d}",
        "ServiceID": "svc",
        "Slot": slot,
        "NodeID": "a",
        "Spec": svc["Spec"]["TaskTemplate"] if new else OLD,
        "Endpoint": {"Spec": svc["Spec"]["EndpointSpec"]},
        "DesiredState": "running",
        "CreatedAt": "2026-01-01T00:00:01Z",
        "Status": {"State": state, **status},
    }


def test_the_first_batch_replaces_parallelism_outdated_tasks_in_slot_order() -> None:
    svc = service(Parallelism=2)
    tasks = [task(svc, slot, new=False) for slot in (3, 1, 2, 4)]
    step = update_step(svc, tasks, now=0)
    assert [t["Slot"] for t in step.replace] == [1, 2]
    assert step.status is not None and step.status["BatchStarted"]


def test_a_parallelism_of_zero_replaces_every_outdated_task_at_once() -> None:
    svc = service(Parallelism=0)
    assert len(update_step(svc, [task(svc, s, new=False) for s in (1, 2, 3)], 0).replace) == 3


def test_the_next_batch_waits_while_a_new_task_is_not_up() -> None:
    svc = service()
    tasks = [task(svc, 1, new=True, state="starting"), task(svc, 2, new=False)]
    assert update_step(svc, tasks, now=0).replace == []


def test_a_new_task_still_starting_its_health_check_is_not_up() -> None:
    svc = service()
    starting = task(svc, 1, new=True, ContainerStatus={"Health": "starting"})
    assert update_step(svc, [starting, task(svc, 2, new=False)], now=0).replace == []


def test_a_new_task_whose_spec_has_a_health_check_is_not_up_before_its_first_probe() -> None:
    svc = service()
    svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Healthcheck"] = {"Test": ["CMD", "true"]}
    unprobed = task(svc, 1, new=True, ContainerStatus={"ContainerID": "c"})
    assert update_step(svc, [unprobed, task(svc, 2, new=False)], now=0).replace == []


def test_the_delay_runs_from_when_a_batch_is_up() -> None:
    svc = service(Delay=10_000_000_000)
    svc["UpdateStatus"]["BatchStarted"] = True
    tasks = [task(svc, 1, new=True), task(svc, 2, new=False)]
    step = update_step(svc, tasks, now=100)
    assert (step.replace, step.status["NextBatchAt"]) == ([], 110)  # type: ignore[index]
    svc["UpdateStatus"] = step.status
    assert update_step(svc, tasks, now=105).replace == []
    assert [t["Slot"] for t in update_step(svc, tasks, now=110).replace] == [2]


def test_the_step_carries_the_configured_order() -> None:
    svc = service(Order="start-first")
    assert update_step(svc, [task(svc, 1, new=False)], now=0).order == "start-first"


def test_an_update_with_nothing_outdated_completes() -> None:
    svc = service()
    step = update_step(svc, [task(svc, 1, new=True)], now=0)
    assert step.status is not None and step.status["State"] == "completed"


def test_a_failed_new_task_pauses_the_update_by_default() -> None:
    svc = service()
    failed = task(svc, 1, new=True, state="failed", Err="exit 1")
    step = update_step(svc, [failed, task(svc, 2, new=False)], now=0)
    assert step.status is not None and step.status["State"] == "paused"
    assert "failed: exit 1" in step.status["Message"]
    assert not step.rollback and step.replace == []


def test_an_unhealthy_new_task_rolls_back_when_the_failure_action_says_so() -> None:
    svc = service(FailureAction="rollback")
    sick = task(svc, 1, new=True, ContainerStatus={"Health": "unhealthy"})
    step = update_step(svc, [sick, task(svc, 2, new=False)], now=0)
    assert step.rollback
    assert step.status is not None and step.status["State"] == "rollback_started"


def test_a_rollback_after_a_failed_update_completes_with_the_failure_in_its_message() -> None:
    svc = service("rollback_started")
    svc["UpdateStatus"]["Message"] = "update rolled back: task abc is unhealthy"
    step = update_step(svc, [task(svc, 1, new=True)], now=0)
    assert step.status is not None and step.status["State"] == "rollback_completed"
    assert step.status["Message"] == (
        "update rolled back: task abc is unhealthy; rollback completed"
    )


def test_a_failure_during_a_rollback_pauses_it_rather_than_rolling_back_again() -> None:
    svc = service("rollback_started")
    svc["Spec"]["RollbackConfig"]["FailureAction"] = "rollback"
    step = update_step(svc, [task(svc, 1, new=True, state="failed")], now=0)
    assert step.status is not None and step.status["State"] == "rollback_paused"
    assert not step.rollback


def test_a_paused_update_does_nothing() -> None:
    svc = service("paused")
    assert update_step(svc, [task(svc, 1, new=False)], now=0).replace == []


def test_without_a_delay_the_next_batch_starts_as_soon_as_one_is_up() -> None:
    svc = service(Parallelism=1)
    svc["UpdateStatus"]["BatchStarted"] = True
    tasks = [task(svc, 1, new=True), task(svc, 2, new=False)]
    assert [t["Slot"] for t in update_step(svc, tasks, now=100).replace] == [2]


def with_ports(svc: dict[str, Any], *ports: tuple[int, int]) -> dict[str, Any]:
    """`svc` publishing each (published, target) port."""
    endpoint = {**svc["Spec"]["EndpointSpec"]}
    endpoint["Ports"] = [{"Protocol": "tcp", "PublishedPort": p, "TargetPort": t} for p, t in ports]
    return {**svc, "Spec": {**svc["Spec"], "EndpointSpec": endpoint}}


def test_a_task_of_another_target_port_is_outdated_and_replaced() -> None:
    before = with_ports(service(), (8080, 80))
    tasks = [task(before, slot, new=True) for slot in (1, 2)]
    after = with_ports(service(Parallelism=1), (8080, 8000))
    assert [t["Slot"] for t in update_step(after, tasks, now=0).replace] == [1]


def test_a_task_of_the_same_endpoint_spec_is_current() -> None:
    svc = with_ports(service(), (8080, 80))
    step = update_step(svc, [task(svc, slot, new=True) for slot in (1, 2)], now=0)
    assert step.replace == [] and step.status is not None
    assert step.status["State"] == "completed"


# -- the monitor window and the max failure ratio ------------------------------------------

SECOND = 1_000_000_000


def at(seconds: float) -> str:
    """A task status's Timestamp, `seconds` after the epoch."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_new_task_is_watched_from_when_it_is_first_seen_up() -> None:
    svc = service()
    svc["UpdateStatus"]["BatchStarted"] = True
    up, starting = task(svc, 1, new=True), task(svc, 2, new=True, state="starting")
    step = update_step(svc, [up, starting, task(svc, 3, new=False)], now=100)
    assert step.status is not None and step.status["UpAt"] == {up["ID"]: 100}
    svc["UpdateStatus"] = step.status
    assert update_step(svc, [up, starting, task(svc, 3, new=False)], now=101).status is None


def test_a_new_task_failing_within_its_monitor_window_pauses_the_update() -> None:
    svc = service(Monitor=5 * SECOND)
    failed = task(svc, 1, new=True, state="failed", Err="exit 1", Timestamp=at(104))
    svc["UpdateStatus"]["UpAt"] = {failed["ID"]: 100}
    step = update_step(svc, [failed, task(svc, 2, new=False)], now=104)
    assert step.status is not None and step.status["State"] == "paused"


def test_a_new_task_failing_after_its_monitor_window_is_no_failure_of_the_update() -> None:
    svc = service(Monitor=5 * SECOND)
    failed = task(svc, 1, new=True, state="failed", Err="exit 1", Timestamp=at(106))
    svc["UpdateStatus"]["UpAt"] = {failed["ID"]: 100}
    step = update_step(svc, [failed, task(svc, 2, new=False)], now=106)
    assert step.status is not None and step.status["State"] == "updating"
    assert [t["Slot"] for t in step.replace] == [2]


def test_a_failure_within_the_max_failure_ratio_is_counted_and_the_update_goes_on() -> None:
    svc = service(MaxFailureRatio=0.5)
    svc["UpdateStatus"]["Dirty"] = 4
    failed = task(svc, 1, new=True, state="failed", Err="exit 1")
    step = update_step(svc, [failed, task(svc, 2, new=False)], now=0)
    assert step.status is not None and step.status["State"] == "updating"
    assert step.status["Failed"] == [failed["ID"]]


def test_a_failure_past_the_max_failure_ratio_takes_the_failure_action() -> None:
    svc = service(MaxFailureRatio=0.25, FailureAction="rollback")
    svc["UpdateStatus"].update(Dirty=4, Failed=["earlier"])
    failed = task(svc, 1, new=True, state="failed", Err="exit 1")
    step = update_step(svc, [failed, task(svc, 2, new=False)], now=0)
    assert step.rollback  # 2 of 4 failed: more than a quarter


def test_an_unhealthy_new_task_within_the_ratio_is_replaced() -> None:
    svc = service(MaxFailureRatio=1)
    sick = task(svc, 1, new=True, ContainerStatus={"Health": "unhealthy"})
    step = update_step(svc, [sick, task(svc, 2, new=False)], now=0)
    assert (step.replace, step.order) == ([sick], "stop-first")


def test_the_update_completes_a_monitor_window_after_its_last_batch_is_up() -> None:
    svc = service(Monitor=5 * SECOND)
    svc["UpdateStatus"]["BatchStarted"] = True
    tasks = [task(svc, 1, new=True)]
    step = update_step(svc, tasks, now=100)
    assert step.status is not None and step.status["NextBatchAt"] == 105
    svc["UpdateStatus"] = step.status
    assert update_step(svc, tasks, now=104).status is None
    done = update_step(svc, tasks, now=105).status
    assert done is not None and done["State"] == "completed"
    assert not {"UpAt", "Failed", "Dirty", "NextBatchAt"} & set(done)


def test_a_batch_started_forgets_the_time_it_waited_for() -> None:
    svc = service(Delay=10 * SECOND)
    svc["UpdateStatus"]["NextBatchAt"] = 110
    step = update_step(svc, [task(svc, 1, new=True), task(svc, 2, new=False)], now=110)
    assert step.status is not None and "NextBatchAt" not in step.status
