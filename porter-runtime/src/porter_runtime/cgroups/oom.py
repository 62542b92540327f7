"""Out-of-memory notifications of a container's cgroup, for `events` (runc's {"type": "oom"}).

cgroup v1: an eventfd registered on memory.oom_control through cgroup.event_control; the
kernel adds one to it each time the cgroup hits its limit and the OOM killer is invoked.
cgroup v2: memory.events, which the kernel marks changed (poll: POLLPRI) whenever one of
its counters moves; an increase of `oom_kill` is an event (as runc counts them).
"""

from __future__ import annotations

import os
import select

from porter_runtime.cgroups.base import CgroupError

_POLL_CHANGED = select.POLLPRI | select.POLLERR


class OomWatcher:
    """`wait(timeout)` -> how many OOM events happened since the last call."""

    def __init__(self, fd: int, counter_file: bool, initial: int = 0) -> None:
        self.fd = fd
        self.counter_file = counter_file  # v2: re-read memory.events; v1: read the eventfd
        self.seen = initial
        self.poller = select.poll()
        self.poller.register(fd, _POLL_CHANGED if counter_file else select.POLLIN)

    def wait(self, timeout: float) -> int:
        if not self.poller.poll(max(0, int(timeout * 1000))):
            return 0
        return self.pending()

    def pending(self) -> int:
        """Events already signalled, without waiting."""
        if not self.counter_file:
            try:
                return int.from_bytes(os.read(self.fd, 8), "little")
            except BlockingIOError:
                return 0
        count = oom_kills(os.pread(self.fd, 4096, 0).decode())
        new, self.seen = max(0, count - self.seen), count
        return new

    def close(self) -> None:
        os.close(self.fd)


def oom_kills(memory_events: str) -> int:
    """The oom_kill counter of a cgroup v2 memory.events text."""
    for line in memory_events.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            return int(value)
    return 0


def watch_v1(memory_dir: str) -> OomWatcher:
    """Register an eventfd for memory.oom_control of `memory_dir` (a v1 memory cgroup)."""
    efd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
    try:
        control = os.open(os.path.join(memory_dir, "memory.oom_control"), os.O_RDONLY)
        try:
            with open(os.path.join(memory_dir, "cgroup.event_control"), "w") as f:
                f.write(f"{efd} {control}")
        finally:
            os.close(control)
    except OSError as exc:
        os.close(efd)
        raise CgroupError(memory_dir, "oom notification", exc.strerror or str(exc)) from exc
    return OomWatcher(efd, counter_file=False)


def watch_v2(cgroup_dir: str) -> OomWatcher:
    """Watch memory.events of `cgroup_dir` (a v2 cgroup with the memory controller)."""
    path = os.path.join(cgroup_dir, "memory.events")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise CgroupError(cgroup_dir, "oom notification", exc.strerror or str(exc)) from exc
    return OomWatcher(fd, counter_file=True, initial=oom_kills(os.pread(fd, 4096, 0).decode()))


def watch(manager: object) -> OomWatcher | None:
    """A watcher for the manager's memory cgroup, or None when it has none."""
    memory_dir = getattr(manager, "dirs", {}).get("memory")
    if memory_dir:
        return watch_v1(memory_dir)
    cgroup_dir = getattr(manager, "dir", None)
    if cgroup_dir and os.path.exists(os.path.join(cgroup_dir, "memory.events")):
        return watch_v2(cgroup_dir)
    return None
