"""porterd.cluster.etcd against a real 3-member etcd on loopback addresses of the test's own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from porterd.cluster.etcd import (
    Compare,
    Delete,
    EtcdClient,
    Get,
    LeaseNotFound,
    NoQuorum,
    Put,
    Unreachable,
    WatchEvent,
    key_missing,
)

from ...etcd_support import EtcdCluster, etcd_cluster, unavailable

pytestmark = [
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
    pytest.mark.timeout(120),
]


@pytest.fixture
def fragile(tmp_path: Path) -> Iterator[EtcdCluster]:
    """A cluster of the test's own, for tests that kill members."""
    with etcd_cluster(tmp_path, first_address=21) as cluster:
        yield cluster


def test_a_stored_value_is_read_back(etcd: EtcdClient, space: str) -> None:
    etcd.put(space + "a", "one")
    found = etcd.get(space + "a")
    assert found is not None
    assert found.value == b"one"


def test_a_missing_key_reads_as_none(etcd: EtcdClient, space: str) -> None:
    assert etcd.get(space + "nothing") is None


def test_a_prefix_range_holds_only_the_keys_under_it_in_order(etcd: EtcdClient, space: str) -> None:
    for key in ("b/2", "b/1", "c/1"):
        etcd.put(space + key, key)
    etcd.put(space.rstrip("/") + "x", "beside")
    assert [kv.key for kv in etcd.prefix(space + "b/")] == [space + "b/1", space + "b/2"]


def test_deleting_a_prefix_leaves_its_neighbours(etcd: EtcdClient, space: str) -> None:
    etcd.put(space + "gone/1", "x")
    etcd.put(space + "gone/2", "x")
    etcd.put(space + "kept", "x")
    assert etcd.delete(space + "gone/", prefix=True) == 2
    assert [kv.key for kv in etcd.prefix(space)] == [space + "kept"]


def test_a_transaction_creates_a_key_only_once(etcd: EtcdClient, space: str) -> None:
    first = etcd.txn([key_missing(space + "k")], [Put(space + "k", "first")])
    second = etcd.txn([key_missing(space + "k")], [Put(space + "k", "second")])
    assert (first.succeeded, second.succeeded) == (True, False)
    assert etcd.get(space + "k").value == b"first"  # type: ignore[union-attr]


def test_a_failed_comparison_runs_the_failure_branch_and_nothing_of_the_success_one(
    etcd: EtcdClient, space: str
) -> None:
    etcd.put(space + "guard", "v1")
    result = etcd.txn(
        [Compare(space + "guard", "VALUE", "EQUAL", "v2")],
        [Put(space + "a", "x"), Put(space + "b", "x")],
        [Get(space + "guard")],
    )
    assert not result.succeeded
    assert [kv.value for kv in result.ranges[0]] == [b"v1"]
    assert etcd.prefix(space + "a") == [] and etcd.get(space + "b") is None


def test_a_transaction_applies_all_its_operations_in_one_revision(
    etcd: EtcdClient, space: str
) -> None:
    etcd.put(space + "old", "x")
    result = etcd.txn(
        [], [Put(space + "new1", "x"), Put(space + "new2", "x"), Delete(space + "old")]
    )
    revisions = {kv.mod_revision for kv in etcd.prefix(space)}
    assert revisions == {result.revision}
    assert etcd.get(space + "old") is None


def test_a_key_on_a_lease_goes_when_the_lease_expires(etcd: EtcdClient, space: str) -> None:
    lease = etcd.grant(1)
    etcd.put(space + "ephemeral", "x", lease=lease)
    deadline = time.monotonic() + 10
    while etcd.get(space + "ephemeral") is not None:
        assert time.monotonic() < deadline, "the leased key outlived its lease"
        time.sleep(0.2)


def test_keep_alive_holds_a_lease_past_its_ttl(etcd: EtcdClient, space: str) -> None:
    lease = etcd.grant(2)
    etcd.put(space + "held", "x", lease=lease)
    for _ in range(8):
        assert etcd.keepalive(lease) == 2
        time.sleep(0.5)
    assert etcd.get(space + "held") is not None


def test_keep_alive_of_an_expired_lease_says_it_has_expired(etcd: EtcdClient) -> None:
    lease = etcd.grant(1)
    etcd.revoke(lease)
    with pytest.raises(LeaseNotFound, match="expired"):
        etcd.keepalive(lease)


def test_revoking_a_lease_removes_its_keys(etcd: EtcdClient, space: str) -> None:
    lease = etcd.grant(30)
    etcd.put(space + "leased", "x", lease=lease)
    etcd.revoke(lease)
    assert etcd.get(space + "leased") is None


def test_a_watch_sees_puts_and_deletes_under_its_prefix_in_order(
    etcd: EtcdClient, space: str
) -> None:
    start = etcd.put(space + "before", "x") + 1
    etcd.put(space + "w/a", "1")
    etcd.put(space + "elsewhere", "x")
    etcd.delete(space + "w/a")
    seen: list[WatchEvent] = []
    for event in etcd.watch(space + "w/", prefix=True, start_revision=start):
        seen.append(event)
        if len(seen) == 2:
            break
    assert [(event.type, event.kv.key) for event in seen] == [
        ("PUT", space + "w/a"),
        ("DELETE", space + "w/a"),
    ]


def test_a_watch_delivers_a_change_made_after_it_started(etcd: EtcdClient, space: str) -> None:
    seen: list[WatchEvent] = []

    def follow() -> None:
        for event in etcd.watch(space + "live", start_revision=0):
            seen.append(event)
            return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < deadline:
        etcd.put(space + "live", "now")
        thread.join(0.3)
    assert [event.kv.value for event in seen] == [b"now"]


def test_no_endpoint_listening_is_an_unreachable_error_naming_them() -> None:
    client = EtcdClient(["http://127.0.0.1:9"], timeout=2)
    with pytest.raises(Unreachable, match=r"127\.0\.0\.1:9: connection refused"):
        client.get("/x")


def test_the_client_fails_over_when_the_member_it_used_is_killed(
    fragile: EtcdCluster,
) -> None:
    client = EtcdClient(fragile.endpoints, timeout=3)
    client.put("/k", "before")
    fragile.kill(fragile.members[0])
    client.put("/k", "after")
    assert client.get("/k").value == b"after"  # type: ignore[union-attr]


def test_without_quorum_a_change_fails_with_a_clear_error_and_resumes_after(
    fragile: EtcdCluster,
) -> None:
    client = EtcdClient(fragile.endpoints, timeout=2)
    client.put("/k", "kept")
    for member in fragile.members[:2]:
        fragile.kill(member)
    with pytest.raises(NoQuorum, match="no quorum") as raised:
        client.put("/k", "lost")
    assert raised.value.status == 503
    assert client.get("/k", serializable=True).value == b"kept"  # type: ignore[union-attr]
    for member in fragile.members[:2]:
        fragile.start(member)
    fragile.wait_healthy()
    client.put("/k", "back")
    assert client.get("/k").value == b"back"  # type: ignore[union-attr]
