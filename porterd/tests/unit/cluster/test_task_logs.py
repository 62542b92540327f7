"""The stream of a service's task logs: docker's task details in front of each line, framed
by stream; a task on another node comes from that node (here a fake); with follow, every
task is read at once and the stream ends once none of the task containers runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from porterd.cluster import logs as logs_module
from porterd.cluster.logs import task_log_stream
from porterd.containers.framing import STDERR, STDOUT, FrameReader, frame
from porterd.containers.logs import LogEntry, LogQuery

T0 = "2026-12-07T10:00:00.000000001Z"


class FakeRemote:
    """The other nodes: each task's frames as given, and what it was asked."""

    def __init__(self, frames: dict[str, list[bytes]]) -> None:
        self.frames_of = frames
        self.asked: list[tuple[str, bool, bool]] = []

    def frames(
        self, task: dict[str, Any], query: LogQuery, follow: bool, timestamps: bool,
        stop: threading.Event,
    ) -> Iterator[bytes]:  # fmt: skip
        self.asked.append((task["ID"], follow, timestamps))
        yield from self.frames_of.get(task["ID"], [])


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


def stream(
    logs: FakeLogs, tasks: list[dict[str, Any]], remote: FakeRemote | None = None, **options: Any
) -> list[tuple[int, bytes]]:
    follow, timestamps = options.pop("follow", False), options.pop("timestamps", False)
    query = LogQuery(**options)
    remote = remote or FakeRemote({})
    return frames(task_log_stream(logs, "n1", remote, tasks, query, follow, timestamps))


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


def test_a_task_on_another_node_is_read_from_that_node_in_its_turn() -> None:
    logs = FakeLogs({"c1": [LogEntry(b"here\n", "stdout", T0)]})
    remote = FakeRemote({"t2": [frame(STDOUT, b"there\n")]})
    tasks = [task("t2", "n2", "c2"), task("t1", "n1", "c1")]
    lines = [line for _, line in stream(logs, tasks, remote, timestamps=True)]
    assert lines == [b"there\n", T0.encode() + b" " + DETAILS + b" here\n"]
    assert remote.asked == [("t2", False, True)]


def test_follow_reads_the_tasks_of_every_node_at_once() -> None:
    later = [[LogEntry(b"two\n", "stdout", T0)]]
    logs = FakeLogs({"c1": [LogEntry(b"one\n", "stdout", T0)]}, later)
    remote = FakeRemote({"t2": [frame(STDOUT, b"there\n")]})
    tasks = [task("t1", "n1", "c1"), task("t2", "n2", "c2")]
    lines = [line for _, line in stream(logs, tasks, remote, follow=True)]
    assert sorted(lines) == sorted([DETAILS + b" one\n", DETAILS + b" two\n", b"there\n"])
    assert remote.asked == [("t2", True, False)]


def test_a_task_without_a_container_yet_has_no_lines() -> None:
    assert stream(FakeLogs({}), [task("t1", "n1")]) == []


def test_follow_adds_the_new_lines_until_the_container_stops() -> None:
    later = [[LogEntry(b"two\n", "stdout", T0)], [LogEntry(b"three\n", "stdout", T0)]]
    logs = FakeLogs({"c1": [LogEntry(b"one\n", "stdout", T0)]}, later)
    lines = [line for _, line in stream(logs, [task("t1", "n1", "c1")], follow=True)]
    assert lines == [DETAILS + b" one\n", DETAILS + b" two\n", DETAILS + b" three\n"]


def test_a_follow_ends_when_the_client_has_gone_even_if_no_task_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logs_module, "GONE_CHECK", 0.01)
    stopped = threading.Event()

    def quiet(stop: threading.Event) -> Iterator[bytes]:
        stop.wait()
        stopped.set()
        yield from ()

    assert list(logs_module.merged([quiet], gone=lambda: True)) == []
    assert stopped.wait(5)
