"""The two long-lived answers of a container: its logs (`GET /containers/{id}/logs`) and an
attach (`POST /containers/{id}/attach`) on the hijacked connection."""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from porterd.containers.attach import AttachStreams, bridge, connect, logged_output
from porterd.containers.conmon import pid_alive, read_pid
from porterd.containers.framing import STREAMS, frame
from porterd.containers.logs import (
    ConmonLogTail,
    LogEntry,
    LogFollower,
    LogQuery,
    read_entries,
)
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
    try:
        for entry in read_entries(paths.json_log, options, query):
            yield _render(entry, container.tty, timestamps)
        if not follow:
            return
        while True:
            running = container.state.status.is_running()
            if running:
                service.pump(container).pump()
            for entry in follower.poll():
                if query.wants(entry) and not (
                    query.until_ns and entry.nanoseconds > query.until_ns
                ):
                    yield _render(entry, container.tty, timestamps)
            if not running or not service.has(container.id):
                return
            if query.until_ns and time.time_ns() > query.until_ns:
                return
            time.sleep(FOLLOW_INTERVAL)
    finally:
        follower.close()


def _render(entry: LogEntry, tty: bool, timestamps: bool) -> bytes:
    data = entry.log
    if timestamps:
        data = entry.time.encode() + b" " + data
    return data if tty else frame(STREAMS[entry.stream], data)


def attach(
    service: ContainerService,
    container: Container,
    hijack: Callable[[], socket.socket],
    streams: AttachStreams,
    logs: bool,
    stream: bool,
) -> None:
    """Serve one attach on the connection `hijack()` answers with the raw-stream head.

    A client of a container that is not running takes its place at the start gate before
    it is answered, so a `start` sent right after the answer waits for it to connect.
    """
    waiter = None
    if stream:
        with container.lock:
            if not container.state.status.is_running():
                waiter = service.gates.enroll(container.id)
    client = None
    try:
        client = hijack()
        if logs:
            for chunk in log_stream(service, container, _streams_query(streams), False, False):
                client.sendall(chunk)
        if not stream:
            return
        output = None
        if waiter is None:
            conmon = connect(service.conmon.attach_path(container.id))
        else:
            path = service.gates.wait(
                waiter, lambda: _gone(client) or not service.has(container.id)
            )
            if path is None:
                return
            # the process starts once this client has left the gate: the log from here on
            # is all of its output, and conmon gone means the log is complete
            conmon = connect(path)
            paths = service.paths(container)
            tail = ConmonLogTail(paths.conmon_log)
            conmon_pid = read_pid(paths.conmon_pidfile)
            service.gates.leave(waiter)
            output = logged_output(tail, lambda: not pid_alive(conmon_pid), streams, conmon_pid)
        bridge(client, conmon, streams, output=output)
        client = None  # bridge closed it
    except OSError:
        return
    finally:
        if waiter is not None:
            service.gates.leave(waiter)
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
    """Whether the client closed the connection while waiting for the container to start.

    The end of what it sends is not that: the docker CLI shuts its side for writing at once
    when it attaches no stdin, and still reads the output. (A TCP client that closed looks
    the same until something is sent to it; it waits until the container starts or goes.)
    """
    poller = select.poll()
    poller.register(client, select.POLLIN | select.POLLRDHUP)
    return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))
