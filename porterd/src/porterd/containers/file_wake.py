"""Sleeping until a folder's files change, a process ends or a stream is told to stop, instead
of polling: an attached stream's output follows conmon's log, and used to look at it every
20 ms for as long as the stream lasted.

`ChangeWatch` waits in one poll() on an inotify descriptor watching the folder (a write to a
file in it, a file made or renamed into it: conmon replacing its log), the pidfd of the
process whose end means no more writes (conmon), and a wake pipe that `WakeEvent.set` writes
to. The standard library has no inotify binding, so libc's is called through ctypes; where
it cannot be had, the wait is the short sleep the polling was.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import threading
from pathlib import Path

IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x2, 0x8, 0x80, 0x100
IN_NONBLOCK, IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
CHANGES = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE
FALLBACK_SLEEP = 0.02  # without inotify: the polling interval this replaced


class ChangeWatch:
    def __init__(self, folder: Path, pid: int = 0) -> None:
        self._inotify = _inotify_on(folder)
        self._pidfd = -1
        if pid > 0:
            with contextlib.suppress(OSError):
                self._pidfd = os.pidfd_open(pid)
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def wait(self, timeout: float) -> bool:
        """Sleep until something changed in the folder, the process ended, `wake` was called
        or `timeout` seconds passed; whether one of the first three happened."""
        if self._inotify < 0:
            timeout = min(timeout, FALLBACK_SLEEP)
        poller = select.poll()
        for fd in (self._inotify, self._pidfd, self._wake_read):
            if fd >= 0:
                poller.register(fd, select.POLLIN)
        fired = poller.poll(timeout * 1000)
        for fd in (self._inotify, self._wake_read):  # drained: the next wait sleeps again
            with contextlib.suppress(OSError):
                while fd >= 0 and os.read(fd, 65536):
                    continue
        return bool(fired)

    def wake(self) -> None:
        with contextlib.suppress(OSError):  # full (already woken) or closed
            os.write(self._wake_write, b"x")

    def close(self) -> None:
        for fd in (self._inotify, self._pidfd, self._wake_read, self._wake_write):
            if fd >= 0:
                os.close(fd)
        self._inotify = self._pidfd = self._wake_read = self._wake_write = -1


class WakeEvent(threading.Event):
    """A threading.Event whose `set` also wakes the watches that wait for it."""

    def __init__(self) -> None:
        super().__init__()
        self._watches: set[ChangeWatch] = set()
        self._lock = threading.Lock()

    def set(self) -> None:
        super().set()
        with self._lock:
            for watch in self._watches:
                watch.wake()

    def wakes(self, watch: ChangeWatch) -> None:
        with self._lock:
            self._watches.add(watch)
        if self.is_set():
            watch.wake()

    def forget(self, watch: ChangeWatch) -> None:
        with self._lock:
            self._watches.discard(watch)


def _inotify_on(folder: Path) -> int:
    """An inotify descriptor watching `folder` for changes of its files; -1 without one."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    except (OSError, AttributeError):
        return -1
    if fd < 0:
        return -1
    if libc.inotify_add_watch(fd, os.fsencode(folder), CHANGES) < 0:
        os.close(fd)
        return -1
    return fd
