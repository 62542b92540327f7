"""A service's restart policy through the reconciler's rounds and the agents on a real etcd,
each node's containers a recording fake and the reconciler's clock a second per round."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from porterd.cluster.store import ClusterStore

from .test_reconciler import Cluster, service

pytestmark = pytest.mark.timeout(90)
SECOND = 1_000_000_000


@pytest.fixture
def nodes(store: ClusterStore) -> Iterator[Cluster]:
    nodes = Cluster(store, 2)
    yield nodes
    nodes.close()


def create(nodes: Cluster, **policy: Any) -> None:
    spec = service(1)
    spec["TaskTemplate"]["RestartPolicy"] = policy
    nodes.store.create_service(spec)
    nodes.settle(lambda: sum(nodes.running().values()) == 1)


def fail_running_task(nodes: Cluster, code: int = 1) -> str:
    (node,) = [n for n in nodes.nodes.values() if n.runtime.running()]
    (task_id,) = node.runtime.running()
    node.runtime.exit(task_id, code)
    return task_id


def task(nodes: Cluster, task_id: str) -> dict[str, Any]:
    return next(t for t in nodes.store.tasks() if t["ID"] == task_id)


def test_a_failed_task_is_replaced_only_once_the_delay_has_passed(nodes: Cluster) -> None:
    create(nodes, Condition="any", Delay=5 * SECOND)
    failed = fail_running_task(nodes)
    nodes.settle(lambda: "Restart" in task(nodes, failed))
    due = task(nodes, failed)["Restart"]["At"]
    assert due == pytest.approx(nodes.now + 5)
    while nodes.now + 1 < due:
        nodes.round()
        assert sum(nodes.running().values()) == 0
        assert len(nodes.store.tasks()) == 1
    nodes.settle(lambda: sum(nodes.running().values()) == 1)
    assert nodes.now >= due


def test_max_attempts_stops_refilling_the_slot(nodes: Cluster) -> None:
    create(nodes, Condition="on-failure", Delay=0, MaxAttempts=2)
    for _ in range(2):
        failed = fail_running_task(nodes)
        nodes.settle(lambda: sum(nodes.running().values()) == 1)
        assert task(nodes, failed)["DesiredState"] == "shutdown"
    last = fail_running_task(nodes)
    nodes.settle(lambda: task(nodes, last)["DesiredState"] == "shutdown")
    for _ in range(5):
        nodes.round()
    assert sum(nodes.running().values()) == 0
    assert len(nodes.store.tasks()) == 3


def test_on_failure_leaves_a_completed_task_s_slot_empty(nodes: Cluster) -> None:
    create(nodes, Condition="on-failure", Delay=0)
    done = fail_running_task(nodes, 0)
    nodes.settle(lambda: task(nodes, done)["DesiredState"] == "shutdown")
    for _ in range(5):
        nodes.round()
    assert [t["Status"]["State"] for t in nodes.store.tasks()] == ["complete"]


def test_condition_none_leaves_a_failed_task_s_slot_empty(nodes: Cluster) -> None:
    create(nodes, Condition="none", Delay=0)
    failed = fail_running_task(nodes)
    nodes.settle(lambda: task(nodes, failed)["DesiredState"] == "shutdown")
    for _ in range(5):
        nodes.round()
    assert sum(nodes.running().values()) == 0
    assert [t["Status"]["State"] for t in nodes.store.tasks()] == ["failed"]


def test_an_update_refills_a_slot_the_policy_left_empty(nodes: Cluster) -> None:
    create(nodes, Condition="none", Delay=0)
    failed = fail_running_task(nodes)
    nodes.settle(lambda: task(nodes, failed)["DesiredState"] == "shutdown")
    current = nodes.store.service("web")
    spec = {**current["Spec"], "TaskTemplate": {**current["Spec"]["TaskTemplate"]}}
    spec["TaskTemplate"]["ContainerSpec"] = {"Image": "busybox:2"}
    nodes.store.update_service("web", current["Version"]["Index"], spec)
    nodes.settle(lambda: nodes.images() == {"busybox:2": 1})
