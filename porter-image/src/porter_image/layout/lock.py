"""A lock that keeps garbage collection from racing writers, as umoci's does.

Writers (blob puts, tag changes, whole import/repack operations) hold a *shared* lock;
`gc` holds an *exclusive* one, so it never deletes a blob that a writer has stored but not
yet referenced from index.json. Changes to index.json itself are serialised by a second,
exclusive lock so that two taggers never lose each other's update.

Both are `flock`s on directories the layout already has (the layout root and `blobs/`), so
locking adds no file to the layout: a layout Porter only read is byte-for-byte unchanged.

porterd uses one layout from many threads, so a lock is also taken within the process: a
shared-or-exclusive lock per directory (by device and inode), whichever object or thread
asks, taken before the flock. It does not rest on flock telling a process's descriptors
apart: where flock is emulated by fcntl's per-process locks (NFS), the threads of one
process would all get it at once. Holds nest per thread: a thread that holds the lock may
take it again (the same mode, or shared inside exclusive) without waiting for itself.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class _SharedExclusive:
    """Shared or exclusive, between the threads of this process; shared holders are never
    kept waiting behind a waiting exclusive one (flock's rule too, so that a thread taking a
    second shared hold through another object cannot deadlock)."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._shared = 0
        self._exclusive = False

    def acquire(self, exclusive: bool) -> None:
        with self._changed:
            if exclusive:
                self._changed.wait_for(lambda: not self._exclusive and not self._shared)
                self._exclusive = True
            else:
                self._changed.wait_for(lambda: not self._exclusive)
                self._shared += 1

    def release(self, exclusive: bool) -> None:
        with self._changed:
            if exclusive:
                self._exclusive = False
            else:
                self._shared -= 1
            self._changed.notify_all()


# One in-process lock per directory while anything holds or waits for it.
_LOCKS: weakref.WeakValueDictionary[tuple[int, int], _SharedExclusive] = (
    weakref.WeakValueDictionary()
)
_LOCKS_GUARD = threading.Lock()


def _process_lock(fd: int) -> _SharedExclusive:
    info = os.fstat(fd)
    with _LOCKS_GUARD:
        lock = _LOCKS.get((info.st_dev, info.st_ino))
        if lock is None:
            lock = _LOCKS[(info.st_dev, info.st_ino)] = _SharedExclusive()
        return lock


class _Holding(threading.local):
    """What one thread holds of one DirectoryLock."""

    depth = 0
    mode = 0


class DirectoryLock:
    """A flock on one directory, shared or exclusive, safe to share between threads; holds
    nest within a thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._holding = _Holding()

    @contextmanager
    def hold(self, exclusive: bool = False) -> Iterator[None]:
        """Hold the lock for the block; nested holds of the same or a weaker mode are free."""
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        holding = self._holding
        if holding.depth and (holding.mode == fcntl.LOCK_EX or mode == holding.mode):
            holding.depth += 1
            try:
                yield
            finally:
                holding.depth -= 1
            return
        if holding.depth:
            raise RuntimeError(f"{self.path}: cannot take an exclusive lock inside a shared one")
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            in_process = _process_lock(fd)
            in_process.acquire(exclusive)
            try:
                fcntl.flock(fd, mode)
                holding.mode, holding.depth = mode, 1
                try:
                    yield
                finally:
                    holding.depth = 0
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                in_process.release(exclusive)
        finally:
            os.close(fd)
