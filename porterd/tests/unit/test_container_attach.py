"""What an attach from before the start relies on: the start gate, telling a client that went
from one that only ended its stdin, and the output read from conmon's log."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from porterd.containers.attach import AttachGates
from porterd.containers.logs import ConmonLogTail
from porterd.containers.streams import _gone

STAMP = "2026-12-07T14:06:42.715665321+00:00"


def k8s(stream: str, text: str) -> bytes:
    return f"{STAMP} {stream} F {text}\n".encode()


def followed(tail: ConmonLogTail, ended: Callable[[], bool] = lambda: True) -> list[tuple]:
    """(stream, bytes) of what the tail yields until `ended()` (conmon gone)."""
    return [(e.stream, e.log) for e in tail.follow(ended, threading.Event())]


def test_a_start_waits_for_a_client_enrolled_before_its_answer(tmp_path: Path) -> None:
    gates = AttachGates()
    waiter = gates.enroll("c1")  # before the client is answered and could send start
    opened = threading.Thread(target=gates.open, args=("c1", tmp_path / "attach"))
    opened.start()
    assert gates.wait(waiter, lambda: False) == tmp_path / "attach"
    assert opened.is_alive()  # start goes on only once the client has connected
    gates.leave(waiter)
    opened.join(timeout=5)
    assert not opened.is_alive()


def test_a_closed_gate_sends_its_waiting_client_away() -> None:
    gates = AttachGates()
    waiter = gates.enroll("c1")
    gates.close("c1")
    assert gates.wait(waiter, lambda: False) is None
    assert not gates.pending("c1")


def test_a_client_that_shut_its_writing_side_is_still_there() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.shutdown(socket.SHUT_WR)  # the docker CLI attaching no stdin
        assert not _gone(ours)


def test_a_client_that_closed_the_connection_is_gone() -> None:
    ours, theirs = socket.socketpair()
    with ours:
        theirs.close()
        assert _gone(ours)


def test_the_tail_starts_where_the_log_stood_when_it_was_made(tmp_path: Path) -> None:
    log = tmp_path / "ctr.log"
    log.write_bytes(k8s("stdout", "earlier run"))
    tail = ConmonLogTail(log)
    with open(log, "ab") as out:
        out.write(k8s("stdout", "out") + k8s("stderr", "err"))
    assert followed(tail) == [("stdout", b"out\n"), ("stderr", b"err\n")]


def test_the_tail_reads_a_log_conmon_creates_after_it_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "exec.log"
    tail = ConmonLogTail(log)
    log.write_bytes(k8s("stdout", "first"))
    assert followed(tail) == [("stdout", b"first\n")]


def test_the_tail_follows_a_log_conmon_replaced(tmp_path: Path) -> None:
    log = tmp_path / "ctr.log"
    log.write_bytes(b"")
    tail = ConmonLogTail(log)
    with open(log, "ab") as out:
        out.write(k8s("stdout", "one"))
    replacement = tmp_path / "ctr.log.new"
    replacement.write_bytes(k8s("stdout", "two"))
    os.replace(replacement, log)  # conmon past --log-size-max
    assert followed(tail) == [("stdout", b"one\n"), ("stdout", b"two\n")]


def test_the_tail_reads_what_conmon_wrote_before_it_was_seen_gone(tmp_path: Path) -> None:
    log = tmp_path / "ctr.log"
    log.write_bytes(b"")
    tail = ConmonLogTail(log)

    def ended() -> bool:  # conmon writes its last line and exits just before it is looked at
        with open(log, "ab") as out:
            out.write(k8s("stdout", "last"))
        return True

    assert followed(tail, ended) == [("stdout", b"last\n")]
