"""The two long-lived answers of a container: its logs (`GET /containers/{id}/logs`) and an
attach (`POST /containers/{id}/attach`) on the hijacked connection."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from porterd.containers.attach import AttachStreams, bridge, connect
from porterd.containers.framing import STREAMS, frame
from porterd.containers.logs import LogEntry, LogFollower, LogQuery, read_entries
from porterd.errors import Conflict

if TYPE_CHECKING:
    from porterd.containers.record import Container
    from porterd.containers.service import ContainerService

FOLLOW_INTERVAL = 0.1


def log_stream(
    service: ContainerService, container: Container, query: LogQuery, follow: bool, timestamps: bool
) -> Iterator[bytes]:
    """The log as the client asked: framed unless the container has a terminal."""
    paths = service.paths(container)
    options = service.log_options(container)
    if container.state.status.is_running():
        service.pump(container).pump()
    follower = LogFollower(paths.json_log)
    for entry in read_entries(paths.json_log, options, query):
        yield _render(entry, container.tty, timestamps)
    if not follow:
        return
    while True:
        running = container.state.status.is_running()
        if running:
            service.pump(container).pump()
        for entry in follower.poll():
            if query.wants(entry) and not (query.until_ns and entry.nanoseconds > query.until_ns):
                yield _render(entry, container.tty, timestamps)
        if not running or container.id not in {c.id for c in service.all()}:
            return
        if query.until_ns and time.time_ns() > query.until_ns:
            return
        time.sleep(FOLLOW_INTERVAL)


def _render(entry: LogEntry, tty: bool, timestamps: bool) -> bytes:
    data = entry.log
    if timestamps:
        data = entry.time.encode() + b" " + data
    return data if tty else frame(STREAMS[entry.stream], data)


def attach(
    service: ContainerService,
    container: Container,
    client: socket.socket,
    streams: AttachStreams,
    logs: bool,
    stream: bool,
) -> None:
    """Serve one attach on `client` (already answered with the raw-stream head)."""
    try:
        if logs:
            for chunk in log_stream(service, container, _streams_query(streams), False, False):
                client.sendall(chunk)
        if not stream:
            return
        with container.lock:
            running = container.state.status.is_running()
        if running:
            conmon = connect(service.conmon.attach_path(container.id))
        else:
            waiter = service.gates.wait(container.id, lambda: _gone(client))
            if waiter is None or waiter.path is None:
                return
            try:
                conmon = connect(waiter.path)
            finally:
                waiter.connected.set()
        bridge(client, conmon, streams)
        client = None  # bridge closed it
    except OSError:
        return
    finally:
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()


def check_attachable(container: Container) -> None:
    with container.lock:
        if not container.state.status.can_attach():
            raise Conflict(f"cannot attach to container {container.id}: it is being removed")


def _streams_query(streams: AttachStreams) -> LogQuery:
    return LogQuery(stdout=streams.stdout, stderr=streams.stderr)


def _gone(client: socket.socket) -> bool:
    """Whether the client closed the connection while waiting for the container to start."""
    try:
        data = client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return data == b""
