"""The reconciler, the agents and the store together on a real etcd, each node's containers a
recording fake: convergence, spread, replacement, failover of a node, drain, rolling updates,
rollback and autoscaling."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from porterd.cluster.agent import Agent
from porterd.cluster.reconciler import Reconciler
from porterd.cluster.store import ClusterStore
from porterd.errors import NotFound

from ...cluster_support import FakeRuntime, settle

pytestmark = pytest.mark.timeout(90)


@dataclass
class Node:
    id: str
    lease: int
    runtime: FakeRuntime
    agent: Agent


class Cluster:
    def __init__(self, store: ClusterStore, size: int) -> None:
        self.store = store
        self.now = 1_000_000.0
        self.reconciler = Reconciler(store, clock=lambda: self.now)
        self.nodes: dict[str, Node] = {}
        for index in range(size):
            self.add(f"node{index}")

    def add(self, node_id: str) -> None:
        lease = self.store.etcd.grant(60)
        self.store.register_node(
            node_id, hostname=node_id, addr="127.0.0.1", resources={}, lease=lease
        )
        runtime = FakeRuntime()
        self.nodes[node_id] = Node(node_id, lease, runtime, Agent(self.store, node_id, runtime))

    def round(self) -> None:
        """One reconciler round and one round of each live node's agent, a second apart."""
        self.now += 1
        self.reconciler.reconcile_once()
        for node in self.nodes.values():
            if self.store.etcd.time_to_live(node.lease) > 0:
                node.agent.sync_once()

    def settle(self, check: Any) -> None:
        settle(self.round, check)

    def running(self) -> Counter[str]:
        return Counter({n.id: len(n.runtime.running()) for n in self.nodes.values()})

    def images(self) -> Counter[str]:
        return Counter(
            body["Image"]
            for node in self.nodes.values()
            for task, body in node.runtime.bodies.items()
            if task in node.runtime.running()
        )

    def close(self) -> None:
        for node in self.nodes.values():
            self.store.etcd.revoke(node.lease)


@pytest.fixture
def cluster(store: ClusterStore) -> Iterator[Cluster]:
    cluster = Cluster(store, 3)
    yield cluster
    cluster.close()


def service(
    replicas: int = 6, image: str = "busybox:1", labels: dict | None = None, **update: Any
) -> dict[str, Any]:
    return {
        "Name": "web",
        "TaskTemplate": {"ContainerSpec": {"Image": image}},
        "Mode": {"Replicated": {"Replicas": replicas}},
        "UpdateConfig": update,
        "Labels": labels or {},
    }


def image(service: dict[str, Any]) -> str:
    return service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]


def update(cluster: Cluster, **changes: Any) -> None:
    current = cluster.store.service("web")
    cluster.store.update_service("web", current["Version"]["Index"], service(**changes))


def failing_update(cluster: Cluster) -> None:
    """Two replicas running, then an update to an image no node has, rolled back on failure."""
    cluster.store.create_service(service(2, FailureAction="rollback"))
    cluster.settle(lambda: sum(cluster.running().values()) == 2)
    for node in cluster.nodes.values():
        node.runtime.refuse_images = ("busybox:broken",)
    update(cluster, replicas=2, image="busybox:broken", FailureAction="rollback")


def test_a_service_converges_spread_evenly_over_the_nodes(cluster: Cluster) -> None:
    cluster.store.create_service(service(6))

    def states() -> list[str]:
        return sorted(task["Status"]["State"] for task in cluster.store.tasks())

    cluster.settle(lambda: states() == ["running"] * 6)
    assert set(cluster.running().values()) == {2}
    cluster.round()
    assert states() == ["running"] * 6


def test_two_reconcilers_that_read_the_same_tasks_fill_each_slot_once(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster.store.create_service(service(2))
    rival = Reconciler(ClusterStore(cluster.store.etcd, cluster.store.prefix))
    read = cluster.store.tasks_at

    def read_then_lose_the_race() -> tuple[list[dict[str, Any]], int]:
        seen = read()
        rival.reconcile_once()
        return seen

    monkeypatch.setattr(cluster.store, "tasks_at", read_then_lose_the_race)
    cluster.reconciler.reconcile_once()
    assert sorted(task["Slot"] for task in cluster.store.tasks()) == [1, 2]


def test_a_task_that_exits_is_replaced_and_kept_as_failed_history(cluster: Cluster) -> None:
    cluster.store.create_service(service(3))
    cluster.settle(lambda: sum(cluster.running().values()) == 3)
    node = cluster.nodes["node0"]
    victim = node.runtime.running()[0]
    node.runtime.exit(victim, 137)
    cluster.settle(lambda: sum(cluster.running().values()) == 3)
    old = next(task for task in cluster.store.tasks() if task["ID"] == victim)
    assert (old["DesiredState"], old["Status"]["State"]) == ("shutdown", "failed")
    assert old["Status"]["Err"] == "task exited with code 137"


def test_an_unhealthy_task_is_stopped_replaced_and_kept_as_failed_history(
    cluster: Cluster,
) -> None:
    cluster.store.create_service(service(3))
    cluster.settle(lambda: sum(cluster.running().values()) == 3)
    node = cluster.nodes["node0"]
    victim = node.runtime.running()[0]
    node.runtime.set_health(victim, "unhealthy")
    cluster.settle(
        lambda: victim not in node.runtime.containers and sum(cluster.running().values()) == 3
    )
    old = next(task for task in cluster.store.tasks() if task["ID"] == victim)
    assert (old["DesiredState"], old["Status"]["State"]) == ("shutdown", "failed")
    assert old["Status"]["Err"] == "dockerexec: unhealthy container"
    live = [task for task in cluster.store.tasks() if task["DesiredState"] == "running"]
    assert sorted(task["Slot"] for task in live) == [1, 2, 3]


def test_the_tasks_of_a_node_that_goes_down_run_elsewhere_and_do_not_stray_on_its_return(
    cluster: Cluster,
) -> None:
    cluster.store.create_service(service(6))
    cluster.settle(lambda: sum(cluster.running().values()) == 6)
    lost = cluster.nodes["node2"]
    cluster.store.etcd.revoke(lost.lease)
    others = ("node0", "node1")
    cluster.settle(lambda: sum(cluster.running()[n] for n in others) == 6)
    assert (cluster.running()["node0"], cluster.running()["node1"]) == (3, 3)
    lost.lease = cluster.store.etcd.grant(60)
    cluster.store.mark_alive("node2", "127.0.0.1", lost.lease)
    cluster.settle(lambda: cluster.running()["node2"] == 0)
    assert sum(cluster.running().values()) == 6


def test_draining_a_node_moves_its_tasks_away(cluster: Cluster) -> None:
    cluster.store.create_service(service(3))
    cluster.settle(lambda: sum(cluster.running().values()) == 3)
    node = cluster.store.node("node1")
    cluster.store.update_node("node1", node["Version"]["Index"], {"Availability": "drain"})
    cluster.settle(lambda: cluster.running()["node1"] == 0 and sum(cluster.running().values()) == 3)


def test_removing_a_service_stops_its_containers_everywhere(cluster: Cluster) -> None:
    cluster.store.create_service(service(3))
    cluster.settle(lambda: sum(cluster.running().values()) == 3)
    cluster.store.remove_service("web")
    cluster.settle(lambda: sum(cluster.running().values()) == 0)


def test_a_rolling_update_replaces_every_task_and_completes(cluster: Cluster) -> None:
    cluster.store.create_service(service(4, Parallelism=2))
    cluster.settle(lambda: sum(cluster.running().values()) == 4)
    update(cluster, replicas=4, image="busybox:2", Parallelism=2)
    cluster.settle(lambda: cluster.images() == {"busybox:2": 4})
    cluster.settle(lambda: cluster.store.service("web")["UpdateStatus"]["State"] == "completed")


def test_a_start_first_update_never_runs_fewer_than_the_replicas(cluster: Cluster) -> None:
    cluster.store.create_service(service(3, Order="start-first"))
    cluster.settle(lambda: sum(cluster.running().values()) == 3)
    update(cluster, replicas=3, image="busybox:2", Order="start-first")
    fewest = 3

    def round() -> None:
        nonlocal fewest
        cluster.round()
        fewest = min(fewest, sum(cluster.running().values()))

    settle(round, lambda: cluster.images() == {"busybox:2": 3})
    assert fewest == 3


def test_an_update_whose_tasks_fail_rolls_back_to_the_previous_image(cluster: Cluster) -> None:
    failing_update(cluster)
    cluster.settle(
        lambda: cluster.store.service("web")["UpdateStatus"]["State"] == "rollback_completed"
    )
    current = cluster.store.service("web")
    assert current["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox:1"
    cluster.settle(lambda: cluster.images() == {"busybox:1": 2})


def test_an_automatic_rollback_says_why_though_the_service_changes_right_after(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_update(cluster)
    roll_back = cluster.store.update_service

    def then_changed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        """The rollback's write, and another writer's change of the service just after."""
        rolled = roll_back(*args, **kwargs)
        cluster.store.set_service_status(rolled, UpdatedAt=rolled["UpdatedAt"])
        return rolled

    monkeypatch.setattr(cluster.store, "update_service", then_changed)
    cluster.settle(lambda: image(cluster.store.service("web")) == "busybox:1")
    status = cluster.store.service("web")["UpdateStatus"]
    assert status["Message"].startswith("update rolled back: task ")


def test_a_refused_rollback_pauses_the_update_with_the_reason(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_update(cluster)
    write = cluster.store.update_service

    def refused(*args: Any, rollback: bool = False, **kwargs: Any) -> dict[str, Any]:
        """As a rollback to a spec whose overlay network was removed since is refused."""
        if rollback:
            raise NotFound("network backend not found")
        return write(*args, **kwargs)

    monkeypatch.setattr(cluster.store, "update_service", refused)
    cluster.settle(lambda: cluster.store.service("web")["UpdateStatus"]["State"] == "paused")
    status = cluster.store.service("web")["UpdateStatus"]
    assert status["Message"] == "update paused: rollback refused: network backend not found"
    assert image(cluster.store.service("web")) == "busybox:broken"


def test_a_service_whose_step_is_refused_holds_up_no_other_service(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster.store.create_service(service(1))
    cluster.store.create_service({**service(2), "Name": "api"})
    listed, step = cluster.store.services, cluster.reconciler.reconcile_service

    def web_first() -> list[dict[str, Any]]:
        return sorted(listed(), key=lambda s: s["Spec"]["Name"] != "web")

    def refused_for_web(svc: dict[str, Any], *args: Any) -> float | None:
        """As a rollback to a spec whose network was removed since is refused."""
        if svc["Spec"]["Name"] == "web":
            raise NotFound("network gone not found")
        return step(svc, *args)

    monkeypatch.setattr(cluster.store, "services", web_first)
    monkeypatch.setattr(cluster.reconciler, "reconcile_service", refused_for_web)
    cluster.settle(lambda: sum(cluster.running().values()) == 2)


def test_a_missing_image_rejects_the_task_with_the_reason(cluster: Cluster) -> None:
    for node in cluster.nodes.values():
        node.runtime.refuse_images = ("nothing:here",)
    cluster.store.create_service(service(1, image="nothing:here"))
    cluster.settle(lambda: any(t["Status"]["State"] == "rejected" for t in cluster.store.tasks()))
    rejected = next(t for t in cluster.store.tasks() if t["Status"]["State"] == "rejected")
    assert rejected["Status"]["Err"] == "No such image: nothing:here"


def test_autoscaling_scales_up_under_cpu_load_and_records_why(cluster: Cluster) -> None:
    labels = {"porter.autoscale": "min=1,max=4,cpu=50%"}
    cluster.store.create_service(service(1, labels=labels))
    cluster.settle(lambda: sum(cluster.running().values()) == 1)
    for node in cluster.nodes.values():
        node.runtime.cpu = 100.0
    cluster.settle(lambda: sum(cluster.running().values()) == 4)
    decisions = cluster.store.service("web")["Autoscale"]["Decisions"]
    assert [(d["From"], d["To"]) for d in decisions] == [(1, 2), (2, 4)]
    assert "cpu 100% against a target of 50%" in decisions[0]["Reason"]


def test_autoscaling_scales_down_only_after_the_stabilisation_window(cluster: Cluster) -> None:
    labels = {"porter.autoscale": "min=1,max=4,cpu=50%"}
    cluster.store.create_service(service(2, labels=labels))
    cluster.settle(lambda: sum(cluster.running().values()) == 2)
    for node in cluster.nodes.values():
        node.runtime.cpu = 50.0
    cluster.settle(lambda: "Usage" in cluster.store.tasks()[0]["Status"])
    for node in cluster.nodes.values():
        node.runtime.cpu = 5.0
    for _ in range(5):
        cluster.round()
    assert sum(cluster.running().values()) == 2
    cluster.now += 301
    cluster.settle(lambda: sum(cluster.running().values()) == 1)


def test_a_task_whose_container_is_being_made_is_not_started_twice(cluster: Cluster) -> None:
    release = threading.Event()
    node = cluster.nodes["node0"]
    original = node.runtime.run
    calls: list[str] = []

    def slow_run(name: str, body: dict[str, Any]) -> str:
        calls.append(name)
        release.wait(10)
        return original(name, body)

    node.runtime.run = slow_run  # type: ignore[method-assign]
    for other in ("node1", "node2"):
        cluster.store.update_node(
            other, cluster.store.node(other)["Version"]["Index"], {"Availability": "drain"}
        )
    cluster.store.create_service(service(1))
    for _ in range(4):
        cluster.round()
    release.set()
    cluster.settle(lambda: cluster.running()["node0"] == 1)
    assert len(calls) == 1


def test_a_slot_no_node_can_take_waits_in_a_pending_task_until_one_can(cluster: Cluster) -> None:
    spec = service(1)
    spec["TaskTemplate"]["Placement"] = {"Constraints": ["node.labels.zone==x"]}
    cluster.store.create_service(spec)
    cluster.round()
    (waiting,) = cluster.store.tasks()
    assert (waiting["NodeID"], waiting["Status"]["State"]) == ("", "pending")
    assert waiting["Status"]["Err"] == "no node satisfies the constraints"
    cluster.round()
    assert cluster.store.tasks() == [waiting]  # kept as it is, not written again each round
    node = cluster.store.node("node1")
    cluster.store.update_node("node1", node["Version"]["Index"], {"Labels": {"zone": "x"}})
    cluster.settle(lambda: cluster.running()["node1"] == 1)
    (task,) = cluster.store.tasks()
    assert (task["ID"], task["NodeID"], task["Status"]["State"]) == (
        waiting["ID"],
        "node1",
        "running",
    )
