"""porterd.cluster.service_events against a real etcd: a service event the leader publishes
reaches the event bus of every node, its own included."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from porterd.cluster.etcd import EtcdClient
from porterd.cluster.service_events import ClusterEvents
from porterd.events import EventBus

from .cluster_cli import until


@pytest.fixture
def nodes(etcd: EtcdClient, space: str) -> Iterator[list[tuple[ClusterEvents, EventBus]]]:
    made = []
    for _ in range(2):
        bus = EventBus()
        events = ClusterEvents(etcd, space, bus)
        events.start()
        made.append((events, bus))
    until(lambda: all(events.following for events, _ in made), 10, "the watches' start")
    yield made
    for events, _ in made:
        events.stop()


def received(bus: EventBus, timeout: float = 10) -> list[tuple[str, str, str, dict]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history, subscription = bus.subscribe()
        bus.unsubscribe(subscription)
        if history:
            return [(e.type, e.action, e.actor_id, e.attributes) for e in history]
        time.sleep(0.1)
    return []


def test_a_service_event_reaches_every_nodes_bus(
    nodes: list[tuple[ClusterEvents, EventBus]],
) -> None:
    leader, _ = nodes[0]
    leader.publish("service", "autoscale", "svc1", {"name": "web", "message": "1 -> 2: cpu"})
    expected = [("service", "autoscale", "svc1", {"name": "web", "message": "1 -> 2: cpu"})]
    for _, bus in nodes:
        assert received(bus) == expected
