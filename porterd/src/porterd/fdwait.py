"""Waiting for one descriptor to become readable, with poll: select refuses descriptors past
1023, which a porterd with many containers (a pidfd each) and clients soon holds."""

from __future__ import annotations

import select
from typing import Protocol


class HasFileno(Protocol):
    def fileno(self) -> int: ...


def readable(fd: int | HasFileno, timeout: float | None) -> bool:
    """Whether `fd` is readable (or at its end, or hung up) within `timeout` seconds (None:
    however long it takes; 0: now)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(None if timeout is None else max(0.0, timeout) * 1000))
