"""System routes: `/_ping`, `/version`, `/info`, `/events`, `/system/df`.

The daemon assembles what they report (`porterd.system_info`); this module parses the request
and shapes the answer, as dockerd's system router does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, Protocol

import falcon

from porterd.api import query
from porterd.errors import InvalidParameter
from porterd.events import EVENT_FILTERS, Event, EventBus, EventFilter

DF_TYPES = ("container", "image", "volume", "build-cache")
# How often a quiet `/events` stream looks whether its client is still there.
_EVENTS_POLL_SECONDS = 1.0


class SystemBackend(Protocol):
    events: EventBus

    def version(self) -> dict[str, Any]: ...

    def info(self) -> dict[str, Any]: ...

    def disk_usage(self, kinds: set[str]) -> dict[str, Any]: ...


def _no_cache(resp: falcon.Response) -> None:
    resp.set_header("Cache-Control", "no-cache, no-store, must-revalidate")
    resp.set_header("Pragma", "no-cache")
    resp.set_header("Swarm", "inactive")


class Ping:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _no_cache(resp)
        resp.content_type = "text/plain; charset=utf-8"
        resp.data = b"OK"

    def on_head(self, req: falcon.Request, resp: falcon.Response) -> None:
        _no_cache(resp)
        resp.content_type = "text/plain; charset=utf-8"
        resp.content_length = 0


class Version:
    def __init__(self, backend: SystemBackend) -> None:
        self.backend = backend

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.backend.version()


class Info:
    def __init__(self, backend: SystemBackend) -> None:
        self.backend = backend

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.backend.info()


class DiskUsage:
    def __init__(self, backend: SystemBackend) -> None:
        self.backend = backend

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        kinds = set(req.get_param_as_list("type") or DF_TYPES)
        unknown = kinds - set(DF_TYPES)
        if unknown:
            raise InvalidParameter(f"unknown object type: {sorted(unknown)[0]}")
        resp.media = self.backend.disk_usage(kinds)


class Events:
    """A JSON stream of events: the kept ones from `since`, then live ones until `until`."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        since = query.timestamp(req, "since")
        until = query.timestamp(req, "until")
        if since is not None and until is not None and since > until:
            raise InvalidParameter("`since` time must be before `until` time")
        accepts = EventFilter(query.filters(req, EVENT_FILTERS)).accepts
        disconnected = req.env.get("porterd.disconnected", lambda: False)
        resp.content_type = falcon.MEDIA_JSON
        resp.stream = _stream(self.bus, since, until, accepts, disconnected)


def _stream(bus: EventBus, since, until, accepts, disconnected) -> Iterator[bytes]:
    history, subscription = bus.subscribe()
    try:
        if since is not None:
            for event in history:
                if event.time_nano >= since and _before(event, until) and accepts(event):
                    yield _line(event)
        while until is None or time.time_ns() <= until:
            wait = _EVENTS_POLL_SECONDS
            if until is not None:
                wait = min(wait, max(0.0, (until - time.time_ns()) / 1e9))
            event = subscription.next_event(timeout=wait)
            if event is None:
                if subscription.dropped:
                    yield json.dumps({"message": subscription.dropped}).encode() + b"\n"
                if subscription.closed or disconnected():
                    return
                continue
            if not _before(event, until):
                return
            if accepts(event):
                yield _line(event)
    finally:
        bus.unsubscribe(subscription)


def _before(event: Event, until: int | None) -> bool:
    return until is None or event.time_nano <= until


def _line(event: Event) -> bytes:
    return json.dumps(event.message()).encode() + b"\n"


def add_routes(app: falcon.App, backend: SystemBackend) -> None:
    app.add_route("/_ping", Ping())
    app.add_route("/version", Version(backend))
    app.add_route("/info", Info(backend))
    app.add_route("/events", Events(backend.events))
    app.add_route("/system/df", DiskUsage(backend))
