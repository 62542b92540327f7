"""The userland proxy as a process of its own (porterd.network.proxy_process), on this host's
127.0.0.1: it relays to its target, records itself while it runs, ends when porterd's end of
its pipe closes, and a later porterd stops the ones an earlier one left, and only those."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from porterd.network import proxy as relay
from porterd.network.proxy_process import ProxyProcess, start_time, stop_leftovers


@pytest.fixture
def target() -> Iterator[tuple[str, int]]:
    """A server on 127.0.0.1 answering each connection with what it read, upper-cased."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        while True:
            try:
                peer, _ = server.accept()
            except OSError:
                return
            with peer:
                peer.sendall(peer.recv(1024).upper())

    threading.Thread(target=answer, daemon=True).start()
    yield server.getsockname()
    server.close()


@pytest.fixture
def proxy(tmp_path: Path, target: tuple[str, int]) -> Iterator[ProxyProcess]:
    listener = socket.create_server(("127.0.0.1", 0))
    made = ProxyProcess("tcp", [listener], target, tmp_path / "proxies")
    yield made
    made.close()


def ask(proxy: ProxyProcess, text: bytes) -> bytes:
    with socket.create_connection(proxy.listeners[0].getsockname(), timeout=10) as client:
        client.sendall(text)
        return client.recv(1024)


def test_the_proxy_process_relays_to_its_target(proxy: ProxyProcess) -> None:
    assert ask(proxy, b"hello") == b"HELLO"


def test_a_running_proxy_is_recorded_by_its_pid_and_start_time(
    tmp_path: Path, proxy: ProxyProcess
) -> None:
    pid = proxy.process.pid
    assert [p.read_text() for p in (tmp_path / "proxies").iterdir()] == [
        f"{pid} {start_time(pid)}\n"
    ]


def test_closing_a_proxy_ends_its_process_and_removes_its_record(
    tmp_path: Path, proxy: ProxyProcess
) -> None:
    proxy.close()
    assert proxy.process.returncode is not None
    assert list((tmp_path / "proxies").iterdir()) == []


def test_the_proxy_ends_when_porterds_end_of_its_pipe_closes(proxy: ProxyProcess) -> None:
    assert proxy.process.stdin is not None
    proxy.process.stdin.close()
    assert proxy.process.wait(timeout=10) == 0


def test_a_proxy_left_by_an_earlier_porterd_is_stopped(tmp_path: Path, proxy: ProxyProcess) -> None:
    stop_leftovers(tmp_path / "proxies")
    assert proxy.process.wait(timeout=10) < 0  # killed, not ended by its pipe
    assert list((tmp_path / "proxies").iterdir()) == []


def test_a_process_that_exited_has_no_start_time_before_it_is_reaped() -> None:
    """A killed leftover is waited for until its sockets are free, not until it is reaped."""
    child = subprocess.Popen(["true"])
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # a zombie now, not reaped
        assert start_time(child.pid) == ""
    finally:
        child.wait()


def test_a_recorded_pid_now_of_another_process_is_left_alone(tmp_path: Path) -> None:
    other = subprocess.Popen(["sleep", "30"])
    try:
        records = tmp_path / "proxies"
        records.mkdir()
        (records / f"{other.pid}.pid").write_text(f"{other.pid} 1\n")  # started at another time
        stop_leftovers(records)
        assert other.poll() is None
        assert list(records.iterdir()) == []
    finally:
        other.kill()
        other.wait()


def test_a_proxy_that_cannot_be_recorded_is_not_left_running(
    tmp_path: Path, target: tuple[str, int]
) -> None:
    records = tmp_path / "proxies"
    records.write_text("a file where the folder of records should be")
    with pytest.raises(OSError):
        ProxyProcess("tcp", [socket.create_server(("127.0.0.1", 0))], target, records)
    assert proxies_of_this_process() == []


def proxies_of_this_process() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # not a process, or gone meanwhile
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and relay.__file__.encode() in argv:
            found.append(int(entry.name))
    return found
