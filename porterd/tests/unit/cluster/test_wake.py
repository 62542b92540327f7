"""porterd.cluster.wake: which changes wake the reconciler and the agent, and how the store
watch carries on after a broken stream, a compaction or a store that does not answer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from porterd.cluster.etcd import KeyValue, Unreachable, WatchCompacted, WatchEvent
from porterd.cluster.service_events import ClusterEvents
from porterd.cluster.spec import AUTOSCALE_LABEL
from porterd.cluster.wake import AUTOSCALE_ROUND, StoreWatch, Wakeups, concerns, due_in, wakes_agent
from porterd.events import EventBus

PREFIX = "/porter/"
NODE = "n1"


def change(key: str, value: Any = None, revision: int = 1, type: str = "PUT") -> WatchEvent:
    raw = b"" if value is None else json.dumps(value).encode()
    return WatchEvent(type, KeyValue(PREFIX + key, raw, revision, revision, 1, 0))


# -- which loops a change wakes -----------------------------------------------------------


def test_a_service_change_wakes_the_reconciler_only() -> None:
    assert concerns(change("services/s1", {"ID": "s1"}), PREFIX, NODE) == (True, False)


def test_a_change_to_a_task_of_this_node_wakes_the_reconciler_and_the_agent() -> None:
    task = {"ID": "t1", "NodeID": NODE}
    assert concerns(change("tasks/s1/t1", task), PREFIX, NODE) == (True, True)


def test_a_change_to_a_task_of_another_node_leaves_this_agent_asleep() -> None:
    task = {"ID": "t1", "NodeID": "n2"}
    assert concerns(change("tasks/s1/t1", task), PREFIX, NODE) == (True, False)


def test_a_removed_task_wakes_the_agent_which_removes_its_container() -> None:
    assert concerns(change("tasks/s1/t1", type="DELETE"), PREFIX, NODE) == (True, True)


def test_a_node_whose_lease_expired_wakes_the_reconciler() -> None:
    assert concerns(change("alive/n2", type="DELETE"), PREFIX, NODE) == (True, False)
    assert concerns(change("nodes/n2", {"ID": "n2"}), PREFIX, NODE) == (True, False)


def test_the_leader_name_and_port_keys_wake_no_loop() -> None:
    for key in ("leader", "names/web", "ports/tcp/8080"):
        assert concerns(change(key, "x"), PREFIX, NODE) == (False, False)


def test_a_key_outside_the_cluster_s_prefix_wakes_no_loop() -> None:
    event = WatchEvent("PUT", KeyValue("/other/tasks/s1/t1", b"{}", 1, 1, 1, 0))
    assert concerns(event, PREFIX, NODE) == (False, False)


def test_a_task_container_that_dies_or_changes_health_wakes_the_agent() -> None:
    bus = EventBus()
    labels = {"com.docker.swarm.task.id": "t1"}
    assert wakes_agent(bus.publish("container", "die", "c1", labels))
    assert wakes_agent(bus.publish("container", "health_status: unhealthy", "c1", labels))
    assert not wakes_agent(bus.publish("container", "start", "c1", labels))
    assert not wakes_agent(bus.publish("container", "die", "c2", {"name": "plain"}))


# -- rounds asked for by a time -----------------------------------------------------------


def service(labels: dict[str, str] | None = None, **status: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"ID": "s1", "Spec": {"Name": "web", "Labels": labels or {}}}
    if status:
        found["UpdateStatus"] = status
    return found


def test_an_update_waiting_for_its_delay_asks_for_a_round_when_it_ends() -> None:
    assert due_in([service(), service(State="updating", NextBatchAt=103.0)], 100.0) == 3.0


def test_an_autoscaled_service_asks_for_rounds_to_follow_its_load() -> None:
    autoscaled = service({AUTOSCALE_LABEL: "min=1,max=3,cpu=50%"})
    assert due_in([autoscaled], 100.0) == AUTOSCALE_ROUND


def test_a_new_leader_asks_for_a_round_when_its_grace_ends() -> None:
    assert due_in([service()], 100.0, settled_at=104.0) == 4.0


def test_services_that_wait_for_nothing_ask_for_no_round() -> None:
    assert due_in([service(), service(State="completed")], 100.0) is None


# -- the store watch ----------------------------------------------------------------------


class FakeEtcd:
    """Watch streams handed out in turn; the watch stops once they are all used."""

    def __init__(self, streams: list[list[Any]], revisions: list[int | Exception]) -> None:
        self.streams = streams
        self.revisions = revisions
        self.starts: list[int] = []
        self.watcher: StoreWatch | None = None

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.revisions.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"header": {"revision": str(answer)}}

    def watch(self, key: str, *, prefix: bool, start_revision: int, idle: float) -> Iterator[Any]:
        self.starts.append(start_revision)
        assert self.watcher is not None
        if not self.streams:
            self.watcher.stop()
            return
        for item in self.streams.pop(0):
            if isinstance(item, Exception):
                raise item
            yield item


def follow(etcd: FakeEtcd) -> tuple[list[WatchEvent], list[int]]:
    """Run a StoreWatch over `etcd` until its streams are used; the changes and full reads."""
    changes: list[WatchEvent] = []
    resyncs: list[int] = []
    watcher = StoreWatch(
        etcd,  # type: ignore[arg-type]
        PREFIX,
        changes.append,
        lambda: resyncs.append(1),
        retry=0,
    )
    etcd.watcher = watcher
    watcher._run()
    return changes, resyncs


def test_the_watch_starts_after_a_full_read_at_the_store_s_revision() -> None:
    etcd = FakeEtcd([[change("services/s1", {}, 11)]], [10])
    changes, resyncs = follow(etcd)
    assert etcd.starts[0] == 11
    assert resyncs == [1]
    assert [event.kv.mod_revision for event in changes] == [11]


def test_a_broken_stream_is_followed_again_from_the_revision_after_the_last_change() -> None:
    etcd = FakeEtcd([[change("tasks/s/a", {}, 12), change("tasks/s/b", {}, 15)], []], [10])
    _, resyncs = follow(etcd)
    assert etcd.starts == [11, 16, 16]
    assert resyncs == [1]


def test_a_compacted_revision_makes_a_full_read_and_a_watch_from_the_store_s_revision() -> None:
    compacted = WatchCompacted("the cluster store ended a watch: history compacted", 20)
    etcd = FakeEtcd([[change("tasks/s/a", {}, 12), compacted]], [10, 30])
    _, resyncs = follow(etcd)
    assert etcd.starts == [11, 31]
    assert resyncs == [1, 1]


def test_a_store_that_does_not_answer_is_tried_again_before_the_full_read() -> None:
    etcd = FakeEtcd([], [Unreachable("no cluster store endpoint answered"), 10])
    _, resyncs = follow(etcd)
    assert etcd.starts == [11]
    assert resyncs == [1]


# -- the wakeups of a node ----------------------------------------------------------------


class Loop:
    def __init__(self) -> None:
        self.woken = threading.Event()

    def wake(self) -> None:
        self.woken.set()


def test_a_task_container_s_death_on_the_daemon_s_bus_wakes_the_agent() -> None:
    bus = EventBus()
    agent = Loop()
    etcd = FakeEtcd([], [Unreachable("no cluster store endpoint answered")] * 100)
    wakeups = Wakeups(etcd, PREFIX, NODE, Loop(), agent, bus)  # type: ignore[arg-type]
    wakeups.start()
    try:
        bus.publish("container", "die", "c1", {"com.docker.swarm.task.id": "t1"})
        assert agent.woken.wait(10)
    finally:
        wakeups.stop()
    assert bus.listeners == 0


class BlockingLoop(Loop):
    """A loop whose first wake blocks until released, so that its listener falls behind."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1
        if self.wakes == 1:
            self.release.wait(10)
        self.woken.set()


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_listener_dropped_for_falling_behind_listens_again_after_a_full_round() -> None:
    bus = EventBus(queue=4)
    agent = BlockingLoop()
    etcd = FakeEtcd([], [Unreachable("no cluster store endpoint answered")] * 100)
    wakeups = Wakeups(etcd, PREFIX, NODE, Loop(), agent, bus)  # type: ignore[arg-type]
    labels = {"com.docker.swarm.task.id": "t1"}
    wakeups.start()
    try:
        bus.publish("container", "die", "c1", labels)
        assert wait_for(lambda: agent.wakes == 1)
        for _ in range(5):  # the listener, stuck in its wake, falls behind: the bus drops it
            bus.publish("container", "start", "c1", labels)
        assert bus.listeners == 0
        agent.release.set()
        assert wait_for(lambda: bus.listeners == 1 and agent.wakes == 2)
        agent.woken.clear()
        bus.publish("container", "die", "c1", labels)
        assert agent.woken.wait(10)
    finally:
        agent.release.set()
        wakeups.stop()
    assert bus.listeners == 0


# -- one watch shared by a node's parts ---------------------------------------------------


def test_one_watch_hands_every_change_and_every_full_read_to_each_subscriber() -> None:
    etcd = FakeEtcd([[change("services/s1", {}, 11), change("events/e1", {}, 12)]], [10])
    watch = StoreWatch(etcd, PREFIX, retry=0)  # type: ignore[arg-type]
    seen: dict[str, list[object]] = {"a": [], "b": []}
    for got in seen.values():
        watch.subscribe(
            lambda event, got=got: got.append(event.kv.key), lambda got=got: got.append("resync")
        )
    etcd.watcher = watch
    watch._run()
    expected = ["resync", PREFIX + "services/s1", PREFIX + "events/e1"]
    assert seen == {"a": expected, "b": expected}


def test_a_subscriber_that_fails_keeps_no_other_from_the_change() -> None:
    etcd = FakeEtcd([[change("services/s1", {}, 11)]], [10])
    watch = StoreWatch(etcd, PREFIX, retry=0)  # type: ignore[arg-type]
    keys: list[str] = []

    def fails(event: WatchEvent) -> None:
        raise RuntimeError("broken subscriber")

    watch.subscribe(fails)
    watch.subscribe(lambda event: keys.append(event.kv.key))
    etcd.watcher = watch
    watch._run()
    assert keys == [PREFIX + "services/s1"] and etcd.starts == [11, 12]


def test_a_shared_watch_runs_until_the_last_of_the_parts_that_started_it_stops() -> None:
    etcd = FakeEtcd([], [Unreachable("no cluster store endpoint answered")] * 1000)
    watch = StoreWatch(etcd, PREFIX, retry=0.01)  # type: ignore[arg-type]
    watch.start()
    watch.start()
    thread = watch._thread
    assert thread is not None
    watch.stop()
    thread.join(0.2)
    assert thread.is_alive()
    watch.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_the_node_s_service_events_publish_only_the_event_keys_of_a_shared_watch() -> None:
    bus = EventBus()
    etcd = FakeEtcd([], [])
    watch = StoreWatch(etcd, PREFIX)  # type: ignore[arg-type]
    ClusterEvents(etcd, PREFIX, bus, watch)  # type: ignore[arg-type]
    event = {"Type": "service", "Action": "update", "Actor": "s1", "Attributes": {}}
    for key in ("services/s1", "events/1-a"):
        for changed, _ in watch._subscribers:
            changed(change(key, event))
    history, subscription = bus.subscribe()
    bus.unsubscribe(subscription)
    assert [(e.type, e.action, e.actor_id) for e in history] == [("service", "update", "s1")]
