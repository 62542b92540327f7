"""The node's view of the cluster that its overlays read (leases, live nodes, tasks), kept
from the watch: the DNS answers from it without asking etcd, so without quorum names still
resolve; and the VXLAN peers of a network are the live nodes with an endpoint on it."""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import pytest
from porterd.cluster.etcd import Get, KeyValue, NoQuorum, TxnResult, WatchEvent
from porterd.cluster.overlay import ClusterOverlays, peers
from porterd.cluster.overlay_view import OverlayView
from porterd.cluster.store import ClusterStore
from porterd.network import dns
from porterd.network.etcfiles import ResolvConf
from porterd.network.records import NetworkRecord

PREFIX = "/porter/"
NET = "n" * 64


def kv(key: str, value: Any, revision: int) -> KeyValue:
    raw = value.encode() if isinstance(value, str) else json.dumps(value).encode()
    return KeyValue(PREFIX + key, raw, revision, revision, 1, 0)


def put(key: str, value: Any, revision: int) -> WatchEvent:
    return WatchEvent("PUT", kv(key, value, revision))


def delete(key: str, revision: int) -> WatchEvent:
    return WatchEvent("DELETE", KeyValue(PREFIX + key, b"", 0, revision, 0, 0))


class FakeEtcd:
    """A store whose full read answers `kvs` at `revision`, or fails without quorum."""

    def __init__(self, kvs: Sequence[KeyValue] = (), revision: int = 10) -> None:
        self.kvs = list(kvs)
        self.revision = revision
        self.quorum = True
        self.during_read: list[WatchEvent] = []  # changes the watch sees while it reads
        self.view: OverlayView | None = None

    def txn(self, compare: Any, success: Sequence[Get], failure: Any = ()) -> TxnResult:
        if not self.quorum:
            raise NoQuorum("the cluster store has no quorum")
        for event in self.during_read:
            assert self.view is not None
            self.view.changed(event)
        ranges = [[k for k in self.kvs if k.key.startswith(get.key)] for get in success]
        return TxnResult(True, self.revision, ranges)

    def __getattr__(self, name: str) -> Any:  # anything else is a question to etcd
        raise NoQuorum(f"the cluster store has no quorum ({name})")


def lease(node: str, container: str, aliases: Sequence[str] = ("web",)) -> dict[str, Any]:
    holder = {"Node": node, "Container": container, "Name": f"web.1.{container}"}
    return {**holder, "Aliases": list(aliases)}


def running(container: str) -> dict[str, Any]:
    status = {"State": "running", "ContainerStatus": {"ContainerID": container}}
    return {"DesiredState": "running", "Status": status}


CLUSTER = [
    kv(f"overlay-leases/{NET}/10.0.0.2", lease("n1", "c1"), 5),
    kv(f"overlay-leases/{NET}/10.0.0.3", lease("n2", "c2"), 6),
    kv("alive/n1", "192.168.9.1", 3),
    kv("alive/n2", "192.168.9.2", 4),
    kv("tasks/s1/t1", running("c1"), 7),
    kv("tasks/s1/t2", running("c2"), 8),
    kv("services/s1", {"Spec": {}}, 2),
]


def filled(etcd: FakeEtcd) -> OverlayView:
    view = OverlayView(etcd, PREFIX)  # type: ignore[arg-type]
    etcd.view = view
    view.resync()
    return view


def test_a_full_read_fills_the_view_with_leases_live_nodes_and_tasks() -> None:
    view = filled(FakeEtcd(CLUSTER))
    assert view.filled
    assert set(view.leases(NET)) == {(NET, "10.0.0.2"), (NET, "10.0.0.3")}
    assert view.live_nodes() == {"n1": "192.168.9.1", "n2": "192.168.9.2"}
    assert len(view.tasks()) == 2


def test_a_change_after_the_read_is_applied_and_one_it_holds_already_is_not() -> None:
    view = filled(FakeEtcd(CLUSTER))
    view.changed(delete("alive/n2", 11))
    view.changed(delete("alive/n1", 9))  # before the read's revision: the read is newer
    assert view.live_nodes() == {"n1": "192.168.9.1"}


def test_a_change_seen_while_the_view_reads_is_kept_after_the_read() -> None:
    etcd = FakeEtcd(CLUSTER)
    etcd.during_read = [put("alive/n3", "192.168.9.3", 11)]
    view = filled(etcd)
    assert "n3" in view.live_nodes()


def test_changes_of_other_keys_are_not_kept() -> None:
    view = filled(FakeEtcd())
    assert not view.changed(put("services/s2", {"Spec": {}}, 11))


def test_without_quorum_a_read_fails_and_the_view_keeps_what_it_had() -> None:
    etcd = FakeEtcd(CLUSTER)
    view = filled(etcd)
    etcd.quorum = False
    with pytest.raises(NoQuorum):
        view.resync()
    assert view.live_nodes() == {"n1": "192.168.9.1", "n2": "192.168.9.2"}


class NoWatch:
    def subscribe(self, changed: Any, resync: Any) -> None:
        pass


def overlays(etcd: FakeEtcd) -> ClusterOverlays:
    store = ClusterStore(etcd, PREFIX)  # type: ignore[arg-type]
    made = ClusterOverlays(store, "n1", "192.168.9.1", watch=NoWatch())  # type: ignore[arg-type]
    etcd.view = made.view
    made.view.resync()
    return made


class OverlayRounds:
    """The network service's side of an overlay round: the VXLAN peers it was given."""

    def __init__(self) -> None:
        self.peers: dict[str, set[str]] | None = None

    def sync_overlays(self, peers: dict[str, set[str]], held: Any) -> None:
        self.peers = peers


def test_a_read_the_watch_asked_for_that_fails_has_the_next_overlay_round_read_again() -> None:
    etcd = FakeEtcd(CLUSTER)
    backend = overlays(etcd)
    etcd.quorum = False
    with pytest.raises(NoQuorum):
        backend.view.resync()  # the watch starting over, after a compaction
    # meanwhile n2's lease expired, a change the watch, gone on from a later revision, missed
    etcd.quorum, etcd.revision = True, 20
    etcd.kvs = [k for k in CLUSTER if k.key != PREFIX + "alive/n2"]
    backend.service = OverlayRounds()
    backend.sync_once()
    assert backend.service.peers == {}


def test_the_dns_answers_a_service_name_from_the_view_without_asking_the_store() -> None:
    etcd = FakeEtcd(CLUSTER)
    backend = overlays(etcd)
    etcd.quorum = False  # every question to the store would fail now
    network = NetworkRecord(NET, "ov", "ov-x", "", {}, driver="overlay")
    assert sorted(backend.dns_answer(network, "web")) == ["10.0.0.2", "10.0.0.3"]


def test_a_node_with_no_endpoint_on_a_network_gets_no_flood_entry() -> None:
    view = filled(FakeEtcd(CLUSTER))
    view.changed(put("alive/n3", "192.168.9.3", 11))
    assert peers(view.leases(), view.live_nodes(), "n1") == {NET: {"192.168.9.2"}}


def test_a_node_gets_its_flood_entry_once_an_endpoint_of_it_holds_an_address() -> None:
    view = filled(FakeEtcd(CLUSTER))
    view.changed(put("alive/n3", "192.168.9.3", 11))
    view.changed(put(f"overlay-leases/{NET}/10.0.0.4", lease("n3", "c3"), 12))
    assert peers(view.leases(), view.live_nodes(), "n1") == {NET: {"192.168.9.2", "192.168.9.3"}}


def test_a_node_whose_lease_expired_gets_no_flood_entry() -> None:
    view = filled(FakeEtcd(CLUSTER))
    view.changed(delete("alive/n2", 11))
    assert peers(view.leases(), view.live_nodes(), "n1") == {}


# -- the embedded DNS when the cluster cannot answer ----------------------------------------


def question(name: str) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", 0x4321, 0x0100, 1, 0, 0, 0) + labels + struct.pack("!HH", 1, 1)


def failing_lookup(container_id: str, name: str) -> list[str]:
    raise NoQuorum("the cluster store has no quorum")


@pytest.fixture
def embedded() -> Any:
    server = dns.EmbeddedDns(failing_lookup, lambda container_id: ResolvConf([], [], []))
    yield server
    server.close()


def test_a_lookup_that_fails_is_answered_with_servfail(embedded: dns.EmbeddedDns) -> None:
    reply = embedded.resolve(question("web"), "c1")
    ident, flags = struct.unpack("!HH", reply[:4])
    assert (ident, flags & 0x000F) == (0x4321, dns.RCODE_SERVFAIL)


def test_a_lookup_that_fails_still_forwards_the_name_upstream(
    embedded: dns.EmbeddedDns, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "forward", lambda query, container_id: b"upstream's reply")
    assert embedded.resolve(question("example.org"), "c1") == b"upstream's reply"


class Round:
    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


def test_a_lease_or_liveness_change_brings_the_overlay_round_forward_and_a_task_does_not() -> None:
    backend = overlays(FakeEtcd(CLUSTER))
    backend._loop = Round()  # type: ignore[assignment]
    backend._changed(put(f"overlay-leases/{NET}/10.0.0.9", lease("n2", "c9"), 11))
    backend._changed(delete("alive/n2", 12))
    backend._changed(put("tasks/s1/t3", running("c9"), 13))
    assert backend._loop.woken == 2  # type: ignore[attr-defined]
