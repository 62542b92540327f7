"""The userland proxies as processes of their own, as docker-proxy is: each has its own
interpreter, GIL and heap, so a busy port and a busy porterd do not take turns on one GIL, and
the proxy's garbage collector walks its own few objects, not porterd's. (With porterd idle,
bench/network's rate through [::1] was the same in porterd's process as in one of its own.)

A proxy is the interpreter running porterd, isolated (`-I -S`: no environment, no
site-packages; proxy.py needs only the standard library), given the listening sockets that
porterd bound. It serves until its standard input, a pipe from porterd, ends, so it ends
with porterd even when porterd is killed. Its pid and start time are recorded under the exec
root once it runs; a porterd started again stops every recorded proxy still alive before it
binds the ports again, and removes the records.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from porterd.network import proxy

log = logging.getLogger("porterd.network.proxy")
STOP_TIMEOUT = 5.0


class ProxyProcess:
    """A proxy relaying what reaches its `listeners` to `target`, running until `close`."""

    def __init__(
        self,
        protocol: str,
        listeners: list[socket.socket],
        target: tuple[str, int],
        records: Path,
    ) -> None:
        self.listeners = listeners
        fds = [listener.fileno() for listener in listeners]
        argv = [interpreter(), "-I", "-S", proxy.__file__, protocol, *map(str, (*target, *fds))]
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            pass_fds=fds,
            start_new_session=True,  # a signal to porterd's group is not one to its proxies
        )
        self.record = records / f"{self.process.pid}.pid"
        try:
            records.mkdir(parents=True, exist_ok=True)
            self.record.write_text(f"{self.process.pid} {start_time(self.process.pid)}\n")
        except BaseException:
            self.close()  # not left running unrecorded
            raise

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.kill()
        self.process.wait()
        self.record.unlink(missing_ok=True)
        for listener in self.listeners:
            listener.close()


def interpreter() -> str:
    """The Python binary itself (a venv's python is a link to it)."""
    return os.path.realpath(sys.executable)


def start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" when it is gone, or a zombie:
    exited, its sockets closed, waiting only for its parent to reap it): with its pid, what
    tells it from a later process given the same pid."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return ""
    return "" if fields[0] in ("Z", "X") else fields[19]


def stop_leftovers(records: Path) -> None:
    """Every recorded proxy that is still alive (its porterd died without ending it) killed,
    and waited for until its sockets are free; the records removed."""
    for record in sorted(records.glob("*.pid")) if records.is_dir() else []:
        pid, _, started = record.read_text().strip().partition(" ")
        if pid.isdigit() and started and start_time(int(pid)) == started:
            log.info("stopping the userland proxy %s left by an earlier porterd", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
            _wait_gone(int(pid), started)
        record.unlink(missing_ok=True)


def _wait_gone(pid: int, started: str) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and start_time(pid) == started:
        time.sleep(0.01)
