"""Freezing a cgroup and waiting, bounded, until the kernel says it is frozen.

Freezing is asynchronous on both hierarchies: v1 passes through FREEZING, v2 reports
"frozen 1" in cgroup.events once every task has stopped. A task stuck in an
uninterruptible sleep can hold it up, so we retry the request and give up after a
deadline, thawing again so nothing is left half-frozen.
"""

from __future__ import annotations

import time

from porter_runtime.cgroups.base import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Callable

FREEZE_TIMEOUT = 5.0


def wait_until(
    request: Callable[[], None],
    done: Callable[[], bool],
    undo: Callable[[], None] | None,
    path: str,
    what: str,
    timeout: float | None = None,
) -> None:
    """Call `request` until `done()`; on timeout call `undo` and raise CgroupError."""
    if timeout is None:
        timeout = FREEZE_TIMEOUT
    deadline = time.monotonic() + timeout
    delay = 0.0005
    attempt = 0
    while True:
        request()
        if done():
            return
        if time.monotonic() >= deadline:
            break
        attempt += 1
        if undo is not None and attempt % 50 == 0:
            undo()  # a thaw-freeze cycle unsticks the v1 freezer, as runc does
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
    if undo is not None:
        undo()
    raise CgroupError(path, what, f"not done after {timeout:g}s")
