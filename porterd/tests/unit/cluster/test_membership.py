"""porterd.cluster.membership: a node joins once its store answers, and a new leader treats a
node down as unknown for one lease's TTL, unless it saw that node go down."""

from __future__ import annotations

import threading
from typing import Any

from porterd.cluster.etcd import KeyValue, NoQuorum, WatchEvent
from porterd.cluster.membership import Departures, Membership, as_new_leader_sees
from porterd.cluster.scheduler import NodeInfo
from porterd.errors import Conflict


class StoreAnsweringLater:
    """A cluster store without quorum for its first `failures` grants."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.etcd = self
        self.registered = threading.Event()
        self.leases: list[int] = []

    def grant(self, ttl: int) -> int:
        if self.failures:
            self.failures -= 1
            raise NoQuorum("the cluster store has no quorum")
        self.leases.append(len(self.leases) + 1)
        return self.leases[-1]

    def keepalive(self, lease: int) -> int:
        return 1

    def revoke(self, lease: int) -> None:
        pass

    def register_node(self, node_id: str, **fields: Any) -> None:
        self.registered.set()

    def key(self, *parts: str) -> str:
        return "/".join(parts)

    def get(self, key: str) -> KeyValue | None:
        """The node's record once registered."""
        return KeyValue(key, b"{}", 1, 1, 1, 0) if self.registered.is_set() else None

    def campaign(self, node_id: str, lease: int) -> bool:
        return True


def test_a_node_started_without_quorum_joins_once_the_store_answers() -> None:
    store = StoreAnsweringLater(failures=2)
    membership = Membership(store, "n1", hostname="a", addr="10.0.0.1", ttl=1)  # type: ignore[arg-type]
    membership.join()  # does not raise
    try:
        assert store.registered.wait(10)
    finally:
        membership.leave()
    assert membership.lease == store.leases[0]


class RecordChangingMeanwhile(StoreAnsweringLater):
    """A store where the node's record changes under its first `conflicts` registrations."""

    def __init__(self, conflicts: int) -> None:
        super().__init__(failures=0)
        self.conflicts = conflicts

    def register_node(self, node_id: str, **fields: Any) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise Conflict(f"node {node_id} kept changing while it registered; try again")
        super().register_node(node_id, **fields)


def test_a_node_whose_record_changes_while_it_registers_joins_at_a_later_tick() -> None:
    store = RecordChangingMeanwhile(conflicts=2)
    membership = Membership(store, "n1", hostname="a", addr="10.0.0.1", ttl=1)  # type: ignore[arg-type]
    membership.join()  # does not raise
    try:
        assert store.registered.wait(10)
    finally:
        membership.leave()


def test_a_node_that_never_joined_leaves_without_a_lease_to_revoke() -> None:
    store = StoreAnsweringLater(failures=1000)
    membership = Membership(store, "n1", hostname="a", addr="10.0.0.1", ttl=1)  # type: ignore[arg-type]
    membership.join()
    membership.leave()
    assert (membership.lease, membership.leading) == (0, False)


NODES = [NodeInfo("up"), NodeInfo("down", ready=False), NodeInfo("drained", availability="drain")]


def test_a_new_leader_keeps_a_down_node_s_tasks_and_places_none_there_until_settled() -> None:
    seen = {node.id: node for node in as_new_leader_sees(NODES, settled_at=105.0, now=100.0)}
    assert (seen["down"].ready, seen["down"].availability) == (True, "pause")
    assert seen["up"] == NODES[0]
    assert seen["drained"] == NODES[2]


def test_once_settled_a_node_down_is_down() -> None:
    assert as_new_leader_sees(NODES, settled_at=105.0, now=105.0) == NODES


def test_a_new_leader_treats_a_node_it_saw_go_down_as_down_at_once() -> None:
    seen = as_new_leader_sees(NODES, settled_at=105.0, now=100.0, seen_down={"down"})
    assert seen == NODES


ALIVE = "/porter/alive/"


def liveness(node_id: str, type: str, key: str = ALIVE) -> WatchEvent:
    return WatchEvent(type, KeyValue(key + node_id, b"10.0.0.1", 7, 7, 1, 0))


def test_a_node_whose_liveness_key_is_deleted_has_departed() -> None:
    departures = Departures(ALIVE)
    departures.changed(liveness("n2", "DELETE"))
    assert departures.nodes == {"n2"}


def test_a_departed_node_that_marks_itself_alive_again_is_no_longer_departed() -> None:
    departures = Departures(ALIVE)
    departures.changed(liveness("n2", "DELETE"))
    departures.changed(liveness("n2", "PUT"))
    assert departures.nodes == set()


def test_deletions_of_other_keys_are_no_departures() -> None:
    departures = Departures(ALIVE)
    departures.changed(liveness("n2", "DELETE", key="/porter/tasks/"))
    assert departures.nodes == set()
