"""The stream of a service's task logs: docker's task details in front of each line, framed
by stream; a task on another node is one stderr line naming where its logs are; with follow,
the stream ends once none of this node's task containers runs."""

from __future__ import annotations

from typing import Any

from porterd.cluster.logs import task_log_stream
from porterd.containers.framing import STDERR, STDOUT, FrameReader
from porterd.containers.logs import LogEntry, LogQuery

T0 = "2026-12-07T10:00:00.000000001Z"
NODES = {"n2": {"ID": "n2", "Addr": "10.0.0.2", "Description": {"Hostname": "beta"}}}


def task(task_id: str, node: str, container: str = "") -> dict[str, Any]:
    status = {"ContainerStatus": {"ContainerID": container}} if container else {}
    return {"ID": task_id, "NodeID": node, "ServiceID": "s1", "Status": status}


class Follower:
    def __init__(self, batches: list[list[LogEntry]]) -> None:
        self.batches = batches

    def poll(self) -> list[LogEntry]:
        return self.batches.pop(0) if self.batches else []


class FakeLogs:
    def __init__(self, logs: dict[str, list[LogEntry]], later: list[list[LogEntry]] = ()) -> None:
        self.logs, self.later = logs, list(later)
        self.runs = len(self.later)

    def log_entries(self, container_id: str, query: LogQuery) -> list[LogEntry]:
        return [e for e in self.logs.get(container_id, []) if query.wants(e)]

    def log_follower(self, container_id: str) -> Follower | None:
        return Follower(self.later) if container_id in self.logs else None

    def is_running(self, container_id: str) -> bool:
        self.runs -= 1
        return self.runs >= 0


def frames(chunks: Any) -> list[tuple[int, bytes]]:
    reader = FrameReader()
    return [f for chunk in chunks for f in reader.feed(chunk)]


def stream(logs: FakeLogs, tasks: list[dict[str, Any]], **options: Any) -> list[tuple[int, bytes]]:
    follow, timestamps = options.pop("follow", False), options.pop("timestamps", False)
    query = LogQuery(**options)
    return frames(task_log_stream(logs, "n1", NODES, tasks, query, follow, timestamps))


DETAILS = b"com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1"


def test_each_line_carries_the_tasks_details_in_its_stream() -> None:
    logs = FakeLogs({"c1": [LogEntry(b"out\n", "stdout", T0), LogEntry(b"err\n", "stderr", T0)]})
    assert stream(logs, [task("t1", "n1", "c1")]) == [
        (STDOUT, DETAILS + b" out\n"),
        (STDERR, DETAILS + b" err\n"),
    ]


def test_timestamps_come_before_the_details() -> None:
    logs = FakeLogs({"c1": [LogEntry(b"out\n", "stdout", T0)]})
    [(_, line)] = stream(logs, [task("t1", "n1", "c1")], timestamps=True)
    assert line == T0.encode() + b" " + DETAILS + b" out\n"


def test_the_query_picks_the_streams() -> None:
    logs = FakeLogs({"c1": [LogEntry(b"out\n", "stdout", T0), LogEntry(b"err\n", "stderr", T0)]})
    assert [kind for kind, _ in stream(logs, [task("t1", "n1", "c1")], stdout=False)] == [STDERR]


def test_a_task_on_another_node_is_one_stderr_line_naming_the_node() -> None:
    [(kind, line)] = stream(FakeLogs({}), [task("t2", "n2", "c2")])
    assert kind == STDERR
    assert line.endswith(b" the logs of task t2 are on node beta (10.0.0.2):"
                         b" read them through that node's porterd\n")  # fmt: skip


def test_a_task_without_a_container_yet_has_no_lines() -> None:
    assert stream(FakeLogs({}), [task("t1", "n1")]) == []


def test_follow_adds_the_new_lines_until_the_container_stops() -> None:
    later = [[LogEntry(b"two\n", "stdout", T0)], [LogEntry(b"three\n", "stdout", T0)]]
    logs = FakeLogs({"c1": [LogEntry(b"one\n", "stdout", T0)]}, later)
    lines = [line for _, line in stream(logs, [task("t1", "n1", "c1")], follow=True)]
    assert lines == [DETAILS + b" one\n", DETAILS + b" two\n", DETAILS + b" three\n"]
