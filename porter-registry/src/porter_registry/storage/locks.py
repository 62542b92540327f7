"""The push/gc lock: pushes hold it shared for the moment they link content, gc exclusively.

A manifest PUT checks that its blobs exist and then writes the manifest; a blob upload or mount
links a blob into a repository and refreshes its mtime. Each does so holding the lock shared, so
gc (holding it exclusively for its whole mark and sweep) sees either the finished push or none
of it. Blobs linked but not yet referenced by a manifest are protected by gc's grace period.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from porter_specs.errors import PorterError


class LockTimeoutError(PorterError):
    """The lock stayed held by someone else for longer than we agreed to wait."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__(f"{path}: still locked after {timeout:g}s (is gc or a push running?)")
        self.path = path


class PushLock:
    """An flock(2) lock file; works between threads (one descriptor each) and processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def _held(self, mode: int, timeout: float | None) -> Iterator[None]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, mode | (fcntl.LOCK_NB if deadline is not None else 0))
                    break
                except BlockingIOError:
                    if deadline is None or time.monotonic() >= deadline:
                        raise LockTimeoutError(self.path, timeout or 0.0) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)

    def shared(self, timeout: float | None = None) -> contextlib.AbstractContextManager[None]:
        """Held by pushes while they make content reachable."""
        return self._held(fcntl.LOCK_SH, timeout)

    def exclusive(self, timeout: float | None = None) -> contextlib.AbstractContextManager[None]:
        """Held by gc for its whole mark and sweep."""
        return self._held(fcntl.LOCK_EX, timeout)
