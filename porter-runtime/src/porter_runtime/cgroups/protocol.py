"""The interface every cgroup backend implements (imported by type checkers and tests).

Kept apart from `base` because `typing` costs milliseconds to import and the runtime's
hot path (create, start, delete) needs only the backends, never the Protocol itself.
`porter_runtime.cgroups.CgroupManager` still names it, imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class CgroupManager(Protocol):
    """One container's cgroup, on whichever hierarchy the host uses."""

    path: str

    def apply(self, pid: int) -> None:
        """Create the cgroup (every controller) and move `pid` into it."""

    def create(self) -> None:
        """Create the cgroup (every controller) without moving anything into it."""

    def clone_target(self) -> str | None:
        """The cgroup v2 directory a new process can be cloned into (clone.fork_into)."""

    def join_self(self, placed: bool) -> None:
        """Move the calling single-threaded process in; `placed`: cloned into
        clone_target() already."""

    def load_setters(self, resources: Mapping[str, Any]) -> None:
        """Import what `set(resources)` will use: create calls this before it forks the
        init (init.preload says why)."""

    def set(self, resources: Mapping[str, Any]) -> None:
        """Write `linux.resources`; used on create and by `update`."""

    def freeze(self) -> None:
        """Freeze every process; returns once the kernel reports the cgroup frozen."""

    def thaw(self) -> None:
        """Undo `freeze`."""

    def state(self) -> str:
        """ "paused" when frozen, else "running"."""

    def pids(self) -> list[int]:
        """Every process in the cgroup."""

    def stats(self) -> dict[str, Any]:
        """The "data" object of runc's `events --stats`."""

    def directories(self) -> list[str]:
        """The cgroup's directories, one per hierarchy, as `destroy` removes them (saved in
        the container's state, so that delete needs neither the mount table nor a manager)."""

    def destroy(self) -> None:
        """Remove the cgroup directories; kills nothing; safe to call twice."""

    def is_empty(self) -> bool:
        """True when no process is left in the cgroup."""
