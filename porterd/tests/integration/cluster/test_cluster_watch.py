"""The cluster's store watch against a real 3-member etcd: a change wakes it, a compacted
revision is reported as such, and a killed member's stream is followed again elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from porterd.cluster.etcd import EtcdClient, WatchCompacted, WatchEvent
from porterd.cluster.wake import StoreWatch

from ...etcd_support import EtcdCluster, etcd_cluster, unavailable

pytestmark = [
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
    pytest.mark.timeout(120),
]
WAIT = 20.0


@pytest.fixture
def fragile(tmp_path: Path) -> Iterator[EtcdCluster]:
    """A cluster of the test's own, for tests that kill members or compact."""
    with etcd_cluster(tmp_path, first_address=31) as cluster:
        yield cluster


class Seen:
    def __init__(self) -> None:
        self.keys: list[str] = []
        self.resyncs = 0
        self._changed = threading.Condition()

    def changed(self, event: WatchEvent) -> None:
        with self._changed:
            self.keys.append(event.kv.key)
            self._changed.notify_all()

    def resync(self) -> None:
        with self._changed:
            self.resyncs += 1
            self._changed.notify_all()

    def wait_for(self, check: object) -> bool:
        with self._changed:
            return self._changed.wait_for(check, WAIT)  # type: ignore[arg-type]


@pytest.fixture
def watching(fragile: EtcdCluster) -> Iterator[tuple[StoreWatch, Seen]]:
    seen = Seen()
    watch = StoreWatch(
        EtcdClient(fragile.endpoints, timeout=3), "/w/", seen.changed, seen.resync, idle=1
    )
    watch.start()
    try:
        assert seen.wait_for(lambda: seen.resyncs == 1)
        yield watch, seen
    finally:
        watch.stop()


def test_a_change_under_the_prefix_reaches_the_watch(
    fragile: EtcdCluster, watching: tuple[StoreWatch, Seen]
) -> None:
    _, seen = watching
    EtcdClient(fragile.endpoints).put("/w/tasks/a", "1")
    assert seen.wait_for(lambda: "/w/tasks/a" in seen.keys)


def test_a_watch_from_a_compacted_revision_says_so(fragile: EtcdCluster) -> None:
    etcd = EtcdClient(fragile.endpoints, timeout=3)
    first = etcd.put("/c/k", "1")
    last = etcd.put("/c/k", "2")
    etcd.call("/v3/kv/compaction", {"revision": str(last), "physical": True})
    with pytest.raises(WatchCompacted, match="compacted") as raised:
        next(iter(etcd.watch("/c/", prefix=True, start_revision=first)))
    assert raised.value.revision == last


def test_the_watch_follows_changes_again_after_the_member_it_read_from_is_killed(
    fragile: EtcdCluster, watching: tuple[StoreWatch, Seen]
) -> None:
    _, seen = watching
    fragile.kill(fragile.members[0])  # the first endpoint, which the watch reads from
    EtcdClient(fragile.endpoints, timeout=3).put("/w/services/b", "1")
    assert seen.wait_for(lambda: "/w/services/b" in seen.keys)
    assert seen.resyncs == 1  # followed from its revision, not read again in full
