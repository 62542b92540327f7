"""`GET /services/{id}/logs` and `/tasks/{id}/logs`: the logs of a service's task containers,
as dockerd streams them for `docker service logs`, gathered from every node.

Each line is framed as a container's log is (stdout 1, stderr 2) and carries the task's
context as docker's details: `[TIMESTAMP ]com.docker.swarm.node.id=N,com.docker.swarm.service
.id=S,com.docker.swarm.task.id=T MESSAGE`; the docker CLI parses it and prints `NAME.SLOT.TASK@
NODE | MESSAGE`. A task's log is read where its container is: this node reads the json-file
logs of its own tasks' containers, and asks the node of any other task for that task's lines
(porterd.cluster.peer_logs, over the cluster's mutual TLS). Without `follow` the tasks come one
after another; with it, every task is read at once and the lines come as they are written,
until no task container runs any more (or the client goes).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

from porterd.containers.framing import STDERR, STREAMS, frame
from porterd.containers.logs import LogEntry, LogQuery

FOLLOW_INTERVAL = 0.2
GONE_CHECK = 1.0


@runtime_checkable
class TaskLogs(Protocol):
    """What the stream needs of the node's task runtime (porterd.cluster.containers)."""

    def log_entries(self, container_id: str, query: LogQuery) -> list[LogEntry]: ...

    def log_follower(self, container_id: str) -> Any: ...  # a LogFollower; None: no container

    def is_running(self, container_id: str) -> bool: ...


class RemoteLogs(Protocol):
    """The frames of a task on another node, as that node streams them."""

    def frames(
        self, task: dict[str, Any], query: LogQuery, follow: bool, timestamps: bool,
        stop: threading.Event,
    ) -> Iterator[bytes]: ...  # fmt: skip


def context(task: dict[str, Any]) -> bytes:
    """docker's details of a task's log line."""
    return (
        f"com.docker.swarm.node.id={task['NodeID']},"
        f"com.docker.swarm.service.id={task['ServiceID']},"
        f"com.docker.swarm.task.id={task['ID']}"
    ).encode()


def container_of(task: dict[str, Any]) -> str:
    return ((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID") or ""


def render(task: dict[str, Any], entry: LogEntry, timestamps: bool) -> bytes:
    line = context(task) + b" " + entry.log
    if timestamps:
        line = entry.time.encode() + b" " + line
    return frame(STREAMS[entry.stream], line)


def notice(task: dict[str, Any], message: str) -> bytes:
    """One stderr line about a task (its logs could not be read), in the task's context."""
    return frame(STDERR, context(task) + b" " + message.encode() + b"\n")


def local_task_frames(
    logs: TaskLogs,
    task: dict[str, Any],
    query: LogQuery,
    follow: bool,
    timestamps: bool,
    stop: threading.Event,
) -> Iterator[bytes]:
    """The frames of one of this node's tasks, then (with `follow`) what its container adds
    until it stops running or `stop` is set."""
    container_id = container_of(task)
    follower = logs.log_follower(container_id) if container_id else None
    if follower is None:  # never started, or its container is gone: nothing to read
        return
    for entry in logs.log_entries(container_id, query):
        yield render(task, entry, timestamps)
    while follow and not stop.is_set():
        running = logs.is_running(container_id)
        for entry in follower.poll():
            if query.wants(entry):
                yield render(task, entry, timestamps)
        if not running:
            return
        stop.wait(FOLLOW_INTERVAL)


Source = Callable[[threading.Event], Iterator[bytes]]
_DONE = object()


def merged(sources: list[Source], gone: Callable[[], bool] = lambda: False) -> Iterator[bytes]:
    """The frames of every source as they come, each source read on a thread of its own,
    until every source ends or `gone()` says the client went (asked each GONE_CHECK seconds
    without frames: a quiet task must not keep a stream nobody reads); ending sets the
    sources' stop event."""
    stop = threading.Event()
    frames: queue.Queue[Any] = queue.Queue()

    def run(source: Source) -> None:
        try:
            for item in source(stop):
                frames.put(item)
                if stop.is_set():
                    break
        finally:
            frames.put(_DONE)

    for index, source in enumerate(sources):
        threading.Thread(target=run, args=(source,), name=f"task-logs-{index}", daemon=True).start()
    running = len(sources)
    try:
        while running:
            try:
                item = frames.get(timeout=GONE_CHECK)
            except queue.Empty:
                if gone():
                    return
                continue
            if item is _DONE:
                running -= 1
            else:
                yield item
    finally:
        stop.set()


def task_log_stream(
    logs: TaskLogs,
    node_id: str,
    remote: RemoteLogs,
    tasks: list[dict[str, Any]],
    query: LogQuery,
    follow: bool,
    timestamps: bool,
    gone: Callable[[], bool] = lambda: False,
) -> Iterator[bytes]:
    """The logs of `tasks` wherever they run: task after task, or with `follow` all at once
    until none of their containers runs any more or the client is `gone()`."""

    def source(task: dict[str, Any]) -> Source:
        if task["NodeID"] == node_id:
            return lambda stop: local_task_frames(logs, task, query, follow, timestamps, stop)
        return lambda stop: remote.frames(task, query, follow, timestamps, stop)

    sources = [source(task) for task in tasks]
    if follow:
        yield from merged(sources, gone)
        return
    never = threading.Event()
    for each in sources:
        yield from each(never)
