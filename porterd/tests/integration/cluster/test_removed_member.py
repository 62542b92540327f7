"""A node removed by force while its porterd runs (`node rm --force`) leaves the cluster, on a
real etcd: it resigns the leadership, ends its lease, tells its porterd once, and does not
register again by itself; a porterd started again joins anew."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from porterd.cluster.membership import Membership
from porterd.cluster.node import ClusterNode
from porterd.cluster.store import ClusterStore
from porterd.errors import NotFound

from ...cluster_support import FakeRuntime
from ...etcd_support import EtcdCluster
from .cluster_cli import until

pytestmark = pytest.mark.timeout(60)
TTL = 1  # a tick every third of a second
SERVICE = {
    "Name": "web",
    "TaskTemplate": {"ContainerSpec": {"Image": "busybox"}},
    "Mode": {"Replicated": {"Replicas": 2}},
}


class Member:
    """A joined Membership and how often it was told it was removed."""

    def __init__(self, store: ClusterStore, name: str) -> None:
        self.told = 0
        self.told_event = threading.Event()
        self.membership = Membership(store, f"id-{name}", hostname=name, addr="127.0.0.1",
                                     ttl=TTL, on_removed=self._told)  # fmt: skip
        self.membership.join()

    def _told(self) -> None:
        self.told += 1
        self.told_event.set()


@pytest.fixture
def members(store: ClusterStore):
    made: list[Member] = []

    def make(name: str) -> Member:
        made.append(Member(store, name))
        return made[-1]

    yield make
    for member in made:
        member.membership.leave()


def test_a_removed_leader_resigns_and_another_node_leads(store: ClusterStore, members) -> None:
    first, second = members("n1"), members("n2")
    assert first.membership.leading
    store.remove_node("id-n1", force=True)
    until(lambda: second.membership.leading, 10, "the second to lead")
    assert store.leader() == "id-n2"
    assert (first.membership.leading, first.membership.removed) == (False, True)


def test_a_removed_node_is_told_once_and_ends_its_lease(store: ClusterStore, members) -> None:
    first = members("n1")
    lease = first.membership.lease
    store.remove_node("id-n1", force=True)
    assert first.told_event.wait(10)
    assert store.etcd.time_to_live(lease) == -1
    first.membership.leave()  # porterd's own stop afterwards
    assert first.told == 1


def test_a_removed_node_does_not_register_again_by_itself(store: ClusterStore, members) -> None:
    first = members("n1")
    store.remove_node("id-n1", force=True)
    assert first.told_event.wait(10)
    threading.Event().wait(3 * TTL)  # several of its ticks, had it kept ticking
    with pytest.raises(NotFound):
        store.node("id-n1")
    assert store.etcd.get(store.key("alive", "id-n1")) is None


def test_a_porterd_started_again_after_its_removal_joins_anew(store: ClusterStore, members) -> None:
    first = members("n1")
    store.remove_node("id-n1", force=True)
    assert first.told_event.wait(10)
    members("n1")
    assert store.node("id-n1")["Status"]["State"] == "ready"


def test_a_node_still_recorded_is_not_told_it_was_removed(store: ClusterStore, members) -> None:
    first = members("n1")
    threading.Event().wait(3 * TTL)
    assert (first.told, first.membership.removed) == (0, False)
    assert store.node("id-n1")["Status"]["State"] == "ready"


def test_a_removed_porterd_reconciles_no_more_and_stops_cleanly_afterwards(
    node: ClusterNode, other_node
) -> None:
    other_node("beta", ready=True)  # a ready node, but no porterd behind it to lead
    until(lambda: node.membership.leading, 10, "alpha to lead")
    node.store.remove_node(node.node_id, force=True)
    until(lambda: node.membership.removed, 10, "alpha to see its removal")
    assert node.store.leader() is None
    node.store.create_service(SERVICE)
    threading.Event().wait(3)  # reconcile rounds, had alpha gone on leading
    assert node.store.tasks() == []
    node.stop()  # as porterd stops afterwards: what the removal stopped is not stopped again


def test_a_removed_node_removes_its_task_containers(
    cluster: EtcdCluster, space: str, tmp_path: Path
) -> None:
    runtime = FakeRuntime()
    node = ClusterNode(endpoints=cluster.endpoints, advertise_addr="127.0.0.1",
                       data_root=tmp_path, runtime=runtime, hostname="alpha", ttl=TTL,
                       prefix=space)  # fmt: skip
    node.start()
    try:
        node.store.create_service(SERVICE)
        until(lambda: len(runtime.running()) == 2, 20, "alpha to run the two tasks")
        node.store.remove_node(node.node_id, force=True)
        until(lambda: not runtime.containers, 10, "alpha to remove its task containers")
    finally:
        node.stop()
