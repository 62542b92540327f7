"""porterd.events: the bus behind `/events` and dockerd's filters over it."""

from __future__ import annotations

import threading

from porterd.events import EventBus, EventFilter


def test_a_container_event_has_dockerds_shape_with_the_legacy_fields() -> None:
    event = EventBus().publish("container", "start", "abc", {"image": "busybox", "name": "x"})
    message = event.message()
    assert message["Type"] == "container"
    assert message["Action"] == message["status"] == "start"
    assert message["Actor"] == {"ID": "abc", "Attributes": {"image": "busybox", "name": "x"}}
    assert message["id"] == "abc" and message["from"] == "busybox"
    assert message["scope"] == "local"
    assert message["time"] == message["timeNano"] // 1_000_000_000


def test_a_volume_event_has_no_legacy_fields() -> None:
    message = EventBus().publish("volume", "create", "data", {"driver": "local"}).message()
    assert "status" not in message and "id" not in message


def test_event_stamps_strictly_increase() -> None:
    bus = EventBus()
    stamps = [bus.publish("volume", "create", str(n)).time_nano for n in range(100)]
    assert stamps == sorted(set(stamps))


def test_a_subscriber_gets_the_history_and_every_later_event() -> None:
    bus = EventBus()
    bus.publish("volume", "create", "before")
    history, subscription = bus.subscribe()
    bus.publish("volume", "create", "after")
    assert [event.actor_id for event in history] == ["before"]
    later = subscription.next_event(timeout=1)
    assert later is not None and later.actor_id == "after"


def test_the_history_is_bounded() -> None:
    bus = EventBus(history=3)
    for n in range(5):
        bus.publish("volume", "create", str(n))
    history, _ = bus.subscribe()
    assert [event.actor_id for event in history] == ["2", "3", "4"]


def test_a_waiting_subscriber_is_woken_by_a_publish_from_another_thread() -> None:
    bus = EventBus()
    _, subscription = bus.subscribe()
    threading.Timer(0.05, bus.publish, ("container", "die", "c1")).start()
    event = subscription.next_event(timeout=10)
    assert event is not None and event.action == "die"


def test_closing_the_bus_ends_a_waiting_subscriber() -> None:
    bus = EventBus()
    _, subscription = bus.subscribe()
    threading.Timer(0.05, bus.close).start()
    assert subscription.next_event(timeout=10) is None
    assert subscription.closed


def test_an_unsubscribed_listener_is_no_longer_counted() -> None:
    bus = EventBus()
    _, subscription = bus.subscribe()
    assert bus.listeners == 1
    bus.unsubscribe(subscription)
    assert bus.listeners == 0


def _accepts(filters: dict, type: str, action: str, actor: str, attributes=None) -> bool:
    event = EventBus().publish(type, action, actor, attributes or {})
    return EventFilter(filters).accepts(event)


def test_type_and_event_filters() -> None:
    assert _accepts({"type": ["container"], "event": ["start"]}, "container", "start", "a")
    assert not _accepts({"type": ["image"]}, "container", "start", "a")
    assert not _accepts({"event": ["stop"]}, "container", "start", "a")


def test_an_event_filter_matches_an_action_with_a_command_suffix() -> None:
    assert _accepts({"event": ["exec_start"]}, "container", "exec_start: sh -c true", "a")


def test_a_container_filter_matches_the_id_prefix_or_the_name() -> None:
    assert _accepts({"container": ["abc"]}, "container", "start", "abcdef")
    assert _accepts({"container": ["web"]}, "container", "start", "abcdef", {"name": "web"})
    assert not _accepts({"container": ["xyz"]}, "container", "start", "abcdef", {"name": "web"})


def test_an_image_filter_matches_a_containers_image_without_its_tag() -> None:
    attributes = {"image": "busybox:latest"}
    assert _accepts({"image": ["busybox"]}, "container", "start", "c1", attributes)
    assert not _accepts({"image": ["alpine"]}, "container", "start", "c1", attributes)


def test_a_label_filter_matches_a_key_or_a_key_and_value() -> None:
    attributes = {"tier": "web"}
    assert _accepts({"label": ["tier"]}, "container", "start", "c", attributes)
    assert _accepts({"label": ["tier=web"]}, "container", "start", "c", attributes)
    assert not _accepts({"label": ["tier=db"]}, "container", "start", "c", attributes)


def test_several_values_of_one_filter_are_alternatives() -> None:
    assert _accepts({"type": ["image", "volume"]}, "volume", "create", "v")


def test_a_listener_that_falls_a_whole_queue_behind_is_dropped() -> None:
    bus = EventBus(queue=3)
    _, slow = bus.subscribe()
    _, other = bus.subscribe()
    for n in range(5):
        bus.publish("volume", "create", str(n))
        assert other.next_event(timeout=0) is not None  # keeps up
    assert slow.closed and "fell 3 events behind" in slow.dropped
    assert bus.listeners == 1 and not other.closed and other.dropped == ""


def test_a_dropped_listener_gets_its_queued_events_then_none() -> None:
    bus = EventBus(queue=2)
    _, slow = bus.subscribe()
    for n in range(3):
        bus.publish("volume", "create", str(n))
    owed = [slow.next_event(timeout=0) for _ in range(3)]
    assert [event.actor_id if event else None for event in owed] == ["0", "1", None]
