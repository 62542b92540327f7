"""porterd.cluster.pending: the task a slot no node can take keeps, waiting on no node with
the reason, and what becomes of it once the slot is placed."""

from __future__ import annotations

from typing import Any

from porterd.cluster.pending import MESSAGE, placed, waiting
from porterd.cluster.scheduler import is_waiting
from porterd.cluster.store import new_task

REASON = "no node has the resources the service reserves"


def service(image: str = "busybox") -> dict[str, Any]:
    template = {"ContainerSpec": {"Image": image}}
    spec = {"Name": "web", "TaskTemplate": template, "Mode": {"Replicated": {"Replicas": 2}}}
    return {"ID": "svc", "Spec": spec}


def test_a_slot_no_node_can_take_gets_a_pending_task_on_no_node_with_the_reason() -> None:
    task = waiting(service(), 2, None, REASON)
    assert task is not None and is_waiting(task)
    assert (task["Slot"], task["NodeID"], task["DesiredState"]) == (2, "", "running")
    status = task["Status"]
    assert (status["State"], status["Message"], status["Err"]) == ("pending", MESSAGE, REASON)


def test_a_task_waiting_with_the_same_reason_needs_no_write() -> None:
    held = waiting(service(), 2, None, REASON)
    assert waiting(service(), 2, held, REASON) is None


def test_a_task_waiting_for_another_reason_keeps_its_id_with_the_new_one() -> None:
    held = waiting(service(), 2, None, "no node satisfies the constraints")
    assert held is not None
    again = waiting(service(), 2, held, REASON)
    assert again is not None
    assert (again["ID"], again["Status"]["Err"]) == (held["ID"], REASON)


def test_a_placed_slot_assigns_its_waiting_task_to_the_node() -> None:
    held = waiting(service(), 2, None, REASON)
    (task,) = placed(service(), 2, held, "node-a")
    assert (task["ID"], task["NodeID"], task["Status"]["State"]) == (
        held["ID"],
        "node-a",
        "assigned",
    )
    assert "Err" not in task["Status"] and not is_waiting(task)


def test_a_placed_slot_whose_waiting_task_is_outdated_gets_a_new_task() -> None:
    held = waiting(service("busybox:1"), 2, None, REASON)
    fresh, old = placed(service("busybox:2"), 2, held, "node-a")
    assert (fresh["NodeID"], fresh["Spec"]["ContainerSpec"]["Image"]) == ("node-a", "busybox:2")
    assert (old["ID"], old["DesiredState"]) == (held["ID"], "shutdown")


def test_a_placed_slot_without_a_waiting_task_gets_a_new_one() -> None:
    (task,) = placed(service(), 1, None, "node-a")
    assert task.keys() == new_task(service(), 1, "node-a").keys()
    assert (task["Slot"], task["NodeID"]) == (1, "node-a")
