"""A lock that keeps garbage collection from racing writers, as umoci's does.

Writers (blob puts, tag changes, whole import/repack operations) hold a *shared* lock;
`gc` holds an *exclusive* one, so it never deletes a blob that a writer has stored but not
yet referenced from index.json. Changes to index.json itself are serialised by a second,
exclusive lock so that two taggers never lose each other's update.

Both are `flock`s on directories the layout already has (the layout root and `blobs/`), so
locking adds no file to the layout: a layout Porter only read is byte-for-byte unchanged.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DirectoryLock:
    """A reentrant flock on one directory, shared or exclusive, held by one object."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._depth = 0
        self._mode = 0

    @contextmanager
    def hold(self, exclusive: bool = False) -> Iterator[None]:
        """Hold the lock for the block; nested holds of the same or a weaker mode are free."""
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        if self._depth and (self._mode == fcntl.LOCK_EX or mode == self._mode):
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if self._depth:
            raise RuntimeError(f"{self.path}: cannot take an exclusive lock inside a shared one")
        self._fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(self._fd, mode)
            self._mode, self._depth = mode, 1
            yield
        finally:
            self._depth = 0
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
