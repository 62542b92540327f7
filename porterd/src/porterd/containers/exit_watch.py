"""Waiting for any of a set of processes (the containers' conmons) to end, or for a wake-up.

The monitor used to notice an exit on its next tick, up to a tick late: that wait was most of
what `docker run --rm` spent after the container's process had ended. A pidfd becomes readable
when its process ends, so the monitor sleeps in poll() on the conmons' pidfds and a wake pipe,
and ticks at once when one of them fires.
"""

from __future__ import annotations

import contextlib
import os
import select
from collections.abc import Iterable

from porterd.fdwait import readable


def wait_for_exit(pid: int, timeout: float | None) -> bool:
    """Sleep until the process ends or `timeout` seconds pass (None: until it ends); whether
    it ended (at once when it is gone already)."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # no such process (or no pid at all)
        return True
    try:
        return readable(pidfd, timeout)
    finally:
        os.close(pidfd)


class ExitWatch:
    """pidfds of the processes being watched, opened once each, plus a pipe that wakes the wait."""

    def __init__(self) -> None:
        self._pidfds: dict[int, int] = {}
        self._ended: set[int] = set()  # fired once: never waited on again (a zombie stays readable)
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def wait(self, pids: Iterable[int], timeout: float) -> bool:
        """Sleep up to `timeout` seconds; True when a watched process ended or `wake` was called."""
        alive = {pid for pid in pids if pid > 0}
        self._ended &= alive  # a pid no longer asked for may be reused by a new conmon
        wanted = alive - self._ended
        for pid in set(self._pidfds) - wanted:
            os.close(self._pidfds.pop(pid))
        for pid in wanted - set(self._pidfds):
            try:
                self._pidfds[pid] = os.pidfd_open(pid)
            except ProcessLookupError:
                self._ended.add(pid)  # already gone: the caller's next look finds its exit
                return True
        poller = select.poll()
        poller.register(self._wake_read, select.POLLIN)
        by_fd = {fd: pid for pid, fd in self._pidfds.items()}
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        fired = poller.poll(timeout * 1000)
        for fd, _ in fired:
            if fd == self._wake_read:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake_read, 4096)
            else:
                pid = by_fd[fd]
                self._ended.add(pid)
                os.close(self._pidfds.pop(pid))
        return bool(fired)

    def wake(self) -> None:
        with contextlib.suppress(OSError):  # full (already woken) or closed
            os.write(self._wake_write, b"x")

    def close(self) -> None:
        for fd in self._pidfds.values():
            os.close(fd)
        self._pidfds.clear()
        if self._wake_read >= 0:
            os.close(self._wake_read)
            os.close(self._wake_write)
            self._wake_read = self._wake_write = -1
