"""porterd.cluster.scheduler.plan: where a service's tasks go, as a pure function."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

from porterd.cluster.scheduler import NodeInfo, plan, unsatisfiable

_ids = itertools.count(1)


def service(replicas: int | None = 3, constraints: tuple[str, ...] = (), cpus: int = 0) -> dict:
    template: dict[str, Any] = {"ContainerSpec": {"Image": "busybox"}}
    if constraints:
        template["Placement"] = {"Constraints": list(constraints)}
    if cpus:
        template["Resources"] = {"Reservations": {"NanoCPUs": cpus}}
    mode = {"Global": {}} if replicas is None else {"Replicated": {"Replicas": replicas}}
    return {"ID": "svc", "Spec": {"Name": "web", "TaskTemplate": template, "Mode": mode}}


def task(
    svc: dict, slot: int | None, node: str, state: str = "running", desired: str = "running"
) -> dict:
    return {
        "ID": f"t{next(_ids)}",
        "ServiceID": svc["ID"],
        "Slot": slot,
        "NodeID": node,
        "Spec": svc["Spec"]["TaskTemplate"],
        "DesiredState": desired,
        "Status": {"State": state},
    }


def nodes(*names: str, **changes: Any) -> list[NodeInfo]:
    return [NodeInfo(id=name, hostname=name, **changes) for name in names]


def placed(result) -> Counter:
    return Counter(node for _, node in result.create)


def test_a_new_service_is_spread_evenly_over_the_nodes() -> None:
    result = plan(service(6), nodes("a", "b", "c"), [])
    assert placed(result) == {"a": 2, "b": 2, "c": 2}
    assert sorted(slot for slot, _ in result.create) == [1, 2, 3, 4, 5, 6]


def test_a_converged_service_needs_no_change() -> None:
    svc = service(2)
    assert plan(svc, nodes("a", "b"), [task(svc, 1, "a"), task(svc, 2, "b")]).empty


def test_spreading_prefers_nodes_with_fewer_of_the_service_s_tasks_then_less_load() -> None:
    svc, other = service(1), {**service(5), "ID": "other"}
    busy = [task(other, slot, "a") for slot in range(1, 4)]
    result = plan(svc, nodes("a", "b"), busy)
    assert result.create == [(1, "b")]


def test_only_nodes_with_the_constraint_label_get_tasks() -> None:
    labelled = [NodeInfo("a", labels={"zone": "x"}), NodeInfo("b", labels={"zone": "y"})]
    result = plan(service(2, ("node.labels.zone==x",)), labelled, [])
    assert placed(result) == {"a": 2}


def test_a_not_equal_constraint_keeps_tasks_off_the_named_node() -> None:
    result = plan(service(2, ("node.hostname!=a",)), nodes("a", "b"), [])
    assert placed(result) == {"b": 2}


def test_a_role_constraint_picks_the_workers() -> None:
    cluster = [NodeInfo("m", role="manager"), NodeInfo("w", role="worker")]
    assert placed(plan(service(1, ("node.role==worker",)), cluster, [])) == {"w": 1}


def test_reservations_stop_placement_when_a_node_is_full() -> None:
    cluster = [NodeInfo("a", nano_cpus=2_000_000_000), NodeInfo("b", nano_cpus=1_000_000_000)]
    result = plan(service(4, cpus=1_000_000_000), cluster, [])
    assert placed(result) == {"a": 2, "b": 1}
    assert result.unplaced == 1
    assert "resources" in result.reason


def test_an_impossible_constraint_leaves_every_slot_unplaced_with_the_reason() -> None:
    result = plan(service(2, ("node.labels.gpu==yes",)), nodes("a"), [])
    assert (result.create, result.unplaced) == ([], 2)
    assert result.reason == "no node satisfies the constraints"


def test_unsatisfiable_names_constraints_no_node_can_meet() -> None:
    template = service(1, ("node.labels.gpu==yes",))["Spec"]["TaskTemplate"]
    assert "node.labels.gpu==yes" in (unsatisfiable(template, nodes("a")) or "")
    assert unsatisfiable(service(1)["Spec"]["TaskTemplate"], nodes("a")) is None


def test_a_task_that_exited_is_shut_down_and_its_slot_filled_again() -> None:
    svc = service(2)
    dead = task(svc, 1, "a", state="failed")
    result = plan(svc, nodes("a", "b"), [dead, task(svc, 2, "b")])
    assert result.shutdown == {dead["ID"]: "task failed"}
    assert result.create == [(1, "a")]


def test_the_tasks_of_a_down_node_are_started_elsewhere() -> None:
    svc = service(2)
    lost = task(svc, 1, "a")
    cluster = [NodeInfo("a", ready=False), NodeInfo("b"), NodeInfo("c")]
    result = plan(svc, cluster, [lost, task(svc, 2, "b")])
    assert result.shutdown == {lost["ID"]: "node down"}
    assert result.create == [(1, "c")]


def test_the_tasks_of_a_drained_node_move_but_a_paused_node_keeps_its_own() -> None:
    svc = service(2)
    drained, paused = task(svc, 1, "a"), task(svc, 2, "b")
    cluster = [NodeInfo("a", availability="drain"), NodeInfo("b", availability="pause")]
    cluster.append(NodeInfo("c"))
    result = plan(svc, cluster, [drained, paused])
    assert result.shutdown == {drained["ID"]: "node drained"}
    assert result.create == [(1, "c")]


def test_a_paused_node_gets_no_new_tasks() -> None:
    cluster = [NodeInfo("a", availability="pause"), NodeInfo("b")]
    assert placed(plan(service(2), cluster, [])) == {"b": 2}


def test_a_node_that_comes_back_keeps_no_stray_task() -> None:
    svc = service(1)
    old = task(svc, 1, "a", desired="shutdown")  # shut down when the node went down
    new = task(svc, 1, "b")
    assert plan(svc, nodes("a", "b"), [old, new]).empty


def test_scaling_down_shuts_down_the_highest_slots() -> None:
    svc = service(1)
    tasks = [task(svc, slot, "a") for slot in (1, 2, 3)]
    result = plan(svc, nodes("a"), tasks)
    assert sorted(result.shutdown) == sorted(t["ID"] for t in tasks[1:])
    assert set(result.shutdown.values()) == {"scaled down"}


def test_scaling_to_zero_shuts_down_every_task() -> None:
    svc = service(0)
    tasks = [task(svc, 1, "a")]
    assert list(plan(svc, nodes("a"), tasks).shutdown) == [tasks[0]["ID"]]


def test_a_global_service_runs_one_task_on_each_fitting_active_node() -> None:
    cluster = [NodeInfo("a"), NodeInfo("b"), NodeInfo("c", availability="drain")]
    assert plan(service(None), cluster, []).create == [(None, "a"), (None, "b")]


def test_a_global_service_leaves_a_node_that_no_longer_satisfies_its_constraints() -> None:
    svc = service(None, ("node.labels.web==yes",))
    on_a = task(svc, None, "a")
    cluster = [NodeInfo("a", labels={}), NodeInfo("b", labels={"web": "yes"})]
    result = plan(svc, cluster, [on_a])
    assert result.shutdown == {on_a["ID"]: "node no longer satisfies the constraints"}
    assert result.create == [(None, "b")]


def test_a_start_first_slot_keeps_the_old_task_until_the_new_one_runs() -> None:
    svc = service(1)
    old = {**task(svc, 1, "a"), "Spec": {"ContainerSpec": {"Image": "old"}}}
    starting = task(svc, 1, "a", state="starting")
    assert plan(svc, nodes("a"), [old, starting]).empty
    running = task(svc, 1, "a")
    assert plan(svc, nodes("a"), [old, running]).shutdown == {old["ID"]: "replaced"}


def test_the_slots_no_node_has_room_for_are_pending() -> None:
    cluster = [NodeInfo("a", nano_cpus=1_000_000_000)]
    result = plan(service(3, cpus=1_000_000_000), cluster, [])
    assert (result.create, result.pending) == ([(1, "a")], [2, 3])


def test_a_task_waiting_for_a_node_keeps_its_slot_pending_while_no_node_has_room() -> None:
    svc = service(2, cpus=1_000_000_000)
    cluster = [NodeInfo("a", nano_cpus=1_000_000_000)]
    held = task(svc, 2, "", state="pending")
    result = plan(svc, cluster, [task(svc, 1, "a"), held])
    assert (result.create, result.pending, result.shutdown) == ([], [2], {})
    assert result.waiting == {2: held}


def test_a_task_waiting_for_a_node_has_its_slot_placed_once_one_has_room() -> None:
    svc = service(2, cpus=1_000_000_000)
    cluster = [NodeInfo("a", nano_cpus=1_000_000_000), NodeInfo("b", nano_cpus=1_000_000_000)]
    held = task(svc, 2, "", state="pending")
    result = plan(svc, cluster, [task(svc, 1, "a"), held])
    assert (result.create, result.pending, result.waiting) == ([(2, "b")], [], {2: held})


def test_a_task_waiting_for_a_slot_scaled_away_is_shut_down() -> None:
    svc = service(1, cpus=1_000_000_000)
    held = task(svc, 2, "", state="pending")
    result = plan(svc, [NodeInfo("a", nano_cpus=1_000_000_000)], [task(svc, 1, "a"), held])
    assert result.shutdown == {held["ID"]: "scaled down"}
    assert result.pending == []


def test_of_two_tasks_waiting_for_one_slot_the_newest_stays() -> None:
    svc = service(1, cpus=1_000_000_000)
    older = {**task(svc, 1, "", state="pending"), "CreatedAt": "2026-01-01T00:00:00Z"}
    newer = {**task(svc, 1, "", state="assigned"), "CreatedAt": "2026-01-02T00:00:00Z"}
    result = plan(svc, [NodeInfo("a", nano_cpus=1)], [newer, older])
    assert result.shutdown == {older["ID"]: "replaced"}
    assert result.waiting == {1: newer}
