"""How `copy` shows progress: bars on a terminal, a line per step otherwise, or JSON lines.

The JSON lines are Docker's progress messages (`id`, `status`, `progressDetail`), the form
porterd relays to docker clients.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import TextIO

from porter_image.copy_events import ProgressEvent, Status
from porter_image.progress import human_size

MOVING = frozenset({Status.DOWNLOADING, Status.PUSHING})
REDRAW_INTERVAL = 0.1


def docker_message(event: ProgressEvent) -> dict[str, object]:
    """The event as one of Docker's JSON progress messages."""
    message: dict[str, object] = {"id": event.id, "status": event.message}
    if event.status in MOVING:
        message["progressDetail"] = {"current": event.current, "total": event.total}
    return message


class JsonProgress:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        with self.lock:
            self.stream.write(json.dumps(docker_message(event)) + "\n")
            self.stream.flush()

    def finish(self) -> None:
        pass


class LineProgress:
    """A line per step of each blob (for logs and pipes)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        if event.status in MOVING:
            return
        with self.lock:
            size = f" ({human_size(event.total)})" if event.total else ""
            self.stream.write(f"{event.kind} {event.id}{size}: {event.message}\n")
            self.stream.flush()

    def finish(self) -> None:
        pass


class BarProgress:
    """A line per blob, redrawn in place: status, bytes, a bar and the rate."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()
        self.rows: dict[str, ProgressEvent] = {}
        self.started: dict[str, float] = {}
        self.drawn_rows = 0
        self.drawn_at = 0.0

    def __call__(self, event: ProgressEvent) -> None:
        with self.lock:
            self.rows[event.id] = event
            self.started.setdefault(event.id, time.monotonic())
            now = time.monotonic()
            if event.status in MOVING and now - self.drawn_at < REDRAW_INTERVAL:
                return
            self._draw(now)

    def finish(self) -> None:
        with self.lock:
            self._draw(time.monotonic())

    def _draw(self, now: float) -> None:
        self.drawn_at = now
        if self.drawn_rows:
            self.stream.write(f"\x1b[{self.drawn_rows}A")
        for event in self.rows.values():
            self.stream.write(f"\r{self._row(event, now)}\x1b[K\n")
        self.drawn_rows = len(self.rows)
        self.stream.flush()

    def _row(self, event: ProgressEvent, now: float) -> str:
        if event.status not in MOVING or not event.total:
            return f"{event.id}: {event.message}"
        width = 30
        filled = int(width * event.current / event.total)
        rate = event.current / max(now - self.started[event.id], 1e-3)
        sizes = f"{human_size(event.current)}/{human_size(event.total)}"
        bar = "=" * filled + ">" + " " * (width - filled)
        return f"{event.id}: {event.message} [{bar[:width]}] {sizes} {human_size(rate)}/s"
