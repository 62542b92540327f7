"""The daemon's event bus: what `/events` streams (`docker events`).

Backends publish `(type, action, actor_id, attributes)`; the bus stamps the time, keeps the
last `HISTORY` events for `since`, and hands each one to every subscriber's queue. Messages
have dockerd's shape, including the old `status`/`id`/`from` fields for containers and images
that clients before API 1.22 read.

A subscriber's queue holds at most `SUBSCRIBER_QUEUE` events (dockerd's events buffer is
as long): one that falls that far behind is dropped, gets what its queue holds and then
why (`Subscription.dropped`), so a slow reader costs the daemon no more memory than that.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from porterd.labels import has_label

log = logging.getLogger("porterd.events")
HISTORY = 1024
SUBSCRIBER_QUEUE = 1024
# Types whose messages also carry the pre-1.22 fields (dockerd's events.go does the same).
_LEGACY_TYPES = {"container", "image"}


@dataclass(frozen=True)
class Event:
    type: str
    action: str
    actor_id: str
    attributes: Mapping[str, str]
    time_nano: int
    scope: str = "local"

    def message(self) -> dict[str, Any]:
        """The JSON object dockerd sends for this event."""
        body: dict[str, Any] = {
            "Type": self.type,
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": dict(self.attributes)},
            "scope": self.scope,
            "time": self.time_nano // 1_000_000_000,
            "timeNano": self.time_nano,
        }
        if self.type in _LEGACY_TYPES:
            body["status"] = self.action
            body["id"] = self.actor_id
            if "image" in self.attributes:
                body["from"] = self.attributes["image"]
        return body


@dataclass
class Subscription:
    """One listener's queue; iterate with `next_event` until `closed`. `dropped` says why
    the bus let go of a listener that fell behind (empty while it keeps up)."""

    _condition: threading.Condition
    limit: int = SUBSCRIBER_QUEUE
    _pending: collections.deque[Event] = field(default_factory=collections.deque)
    closed: bool = False
    dropped: str = ""

    def _put(self, event: Event) -> bool:
        """Queue `event`; False (and nothing queued) when the queue is full."""
        if len(self._pending) >= self.limit:
            return False
        self._pending.append(event)
        return True

    def _drop(self) -> None:
        self.closed = True
        self.dropped = (
            f"events dropped: the listener fell {self.limit} events behind and was disconnected"
        )

    def next_event(self, timeout: float) -> Event | None:
        """The next event, or None after `timeout` seconds without one (or once closed)."""
        with self._condition:
            if not self._pending and not self.closed:
                self._condition.wait(timeout)
            return self._pending.popleft() if self._pending else None


class EventBus:
    """Publish/subscribe of daemon events with a bounded history."""

    def __init__(self, history: int = HISTORY, queue: int = SUBSCRIBER_QUEUE) -> None:
        self._condition = threading.Condition()
        self._history: collections.deque[Event] = collections.deque(maxlen=history)
        self._subscriptions: list[Subscription] = []
        self._queue = queue
        self._last_nano = 0

    def publish(
        self, type: str, action: str, actor_id: str, attributes: Mapping[str, str] | None = None
    ) -> Event:
        with self._condition:
            # Strictly increasing stamps: `since`/`until` cut between two events, never inside one.
            self._last_nano = max(time.time_ns(), self._last_nano + 1)
            event = Event(type, action, actor_id, dict(attributes or {}), self._last_nano)
            self._history.append(event)
            for subscription in list(self._subscriptions):
                if not subscription._put(event):
                    subscription._drop()
                    self._subscriptions.remove(subscription)
                    log.warning("an events listener fell behind and was dropped")
            self._condition.notify_all()
        return event

    def subscribe(self) -> tuple[list[Event], Subscription]:
        """The events kept so far and a subscription to every later one, with none lost between."""
        with self._condition:
            subscription = Subscription(self._condition, self._queue)
            self._subscriptions.append(subscription)
            return list(self._history), subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._condition:
            subscription.closed = True
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    @property
    def listeners(self) -> int:
        with self._condition:
            return len(self._subscriptions)

    def close(self) -> None:
        """Wake every listener so streams end (the daemon is stopping)."""
        with self._condition:
            for subscription in self._subscriptions:
                subscription.closed = True
            self._condition.notify_all()


# Filter keys of `/events` -> what of an event they compare with (dockerd's events/filter.go).
_ACTOR_FILTERS = {"container", "image", "volume", "network", "plugin", "daemon", "node"}
EVENT_FILTERS = frozenset({*_ACTOR_FILTERS, "type", "event", "label", "scope"})


@dataclass(frozen=True)
class EventFilter:
    """`/events` filters, already parsed: key -> accepted values (any one of them matches)."""

    filters: Mapping[str, Iterable[str]]

    def accepts(self, event: Event) -> bool:
        return all(self._accepts(key, set(values), event) for key, values in self.filters.items())

    @staticmethod
    def _accepts(key: str, values: set[str], event: Event) -> bool:
        if not values:
            return True
        if key == "type":
            return event.type in values
        if key == "event":
            # "exec_start" matches "exec_start: sh -c ..." as in dockerd.
            return any(event.action == v or event.action.startswith(v + ":") for v in values)
        if key == "scope":
            return event.scope in values
        if key == "label":
            return any(has_label(event.attributes, value) for value in values)
        if key == "image":
            return bool(values & _image_names(event))
        if key in _ACTOR_FILTERS:
            # Fuzzy as in dockerd: the actor's id or name, or a prefix of either.
            names = [event.actor_id, event.attributes.get("name", "")]
            return any(name.startswith(value) for value in values for name in names if name)
        return False


def _image_names(event: Event) -> set[str]:
    """What an `image` filter compares with: the image's id or name, or a container's image."""
    name = event.attributes.get("name" if event.type == "image" else "image", "")
    names = {event.actor_id, name}
    names |= {_strip_tag(each) for each in names}
    return names - {""}


def _strip_tag(reference: str) -> str:
    name, _, tag = reference.rpartition(":")
    return name if name and "/" not in tag else reference
