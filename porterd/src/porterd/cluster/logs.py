"""`GET /services/{id}/logs` and `/tasks/{id}/logs`: the logs of a service's task containers,
as dockerd streams them for `docker service logs`.

Each line is framed as a container's log is (stdout 1, stderr 2) and carries the task's
context as docker's details: `[TIMESTAMP ]com.docker.swarm.node.id=N,com.docker.swarm.service
.id=S,com.docker.swarm.task.id=T MESSAGE`; the docker CLI parses it and prints `NAME.SLOT.TASK@
NODE | MESSAGE`. A task's log is read where its container is: this node reads the json-file
logs of its own tasks' containers. A task on another node is not read from here: the stream
says so in one stderr line naming the node and its address, where `porter -H` (or `docker
-H`) against that node's porterd reads the task's container logs (`service ps` names it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from porterd.containers.framing import STDERR, STREAMS, frame
from porterd.containers.logs import LogEntry, LogQuery

FOLLOW_INTERVAL = 0.2


@runtime_checkable
class TaskLogs(Protocol):
    """What the stream needs of the node's task runtime (porterd.cluster.containers)."""

    def log_entries(self, container_id: str, query: LogQuery) -> list[LogEntry]: ...

    def log_follower(self, container_id: str) -> Any: ...  # a LogFollower; None: no container

    def is_running(self, container_id: str) -> bool: ...


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


def task_log_stream(
    logs: TaskLogs,
    node_id: str,
    nodes: dict[str, dict[str, Any]],
    tasks: list[dict[str, Any]],
    query: LogQuery,
    follow: bool,
    timestamps: bool,
) -> Iterator[bytes]:
    """The logs of `tasks`, task after task, then (with `follow`) what they add, until none
    of this node's task containers runs any more."""
    here = [t for t in tasks if t["NodeID"] == node_id and container_of(t)]
    for task in tasks:
        if task["NodeID"] != node_id:
            node = nodes.get(task["NodeID"]) or {}
            where = node.get("Description", {}).get("Hostname") or task["NodeID"]
            message = (
                f"the logs of task {task['ID']} are on node {where} ({node.get('Addr', '?')}):"
                " read them through that node's porterd\n"
            )
            yield frame(STDERR, context(task) + b" " + message.encode())
    followers = []
    for task in here:
        cid = container_of(task)
        follower = logs.log_follower(cid)
        if follower is None:  # its container is gone: nothing left to read
            continue
        followers.append((task, cid, follower))
        for entry in logs.log_entries(cid, query):
            yield render(task, entry, timestamps)
    while follow and followers:
        for task, cid, follower in list(followers):
            running = logs.is_running(cid)
            for entry in follower.poll():
                if query.wants(entry):
                    yield render(task, entry, timestamps)
            if not running:
                followers.remove((task, cid, follower))
        time.sleep(FOLLOW_INTERVAL)
