"""cgroup v1: one directory per mounted hierarchy, resources written per controller.

Every mounted hierarchy is joined, named ones (name=systemd) included, as runc does;
on a hybrid host the unified hierarchy is joined too, best effort. Controllers that
are not mounted are simply absent: setting a limit for one is an error, reading its
statistics gives zeros.
"""

from __future__ import annotations

import errno
import os

from porter_runtime.cgroups import files
from porter_runtime.cgroups.base import CgroupError, rmdir_each, warn
from porter_runtime.cgroups.paths import UNIFIED, v1_mounts

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Mapping
    from typing import Any

# which hierarchy answers "who is in this cgroup" and names the manager's path
PREFERRED = ("pids", "freezer", "devices", "memory", "cpu", "cpuacct", "blkio", "name=systemd")


class CgroupV1Manager:
    """A container's cgroups on a v1 (or hybrid) host."""

    def __init__(
        self,
        paths: Mapping[str, str] | str,
        mounts: Mapping[str, str] | None = None,
        rootless: bool = False,
    ) -> None:
        """`paths` maps controller -> cgroup path (or one path for all); `mounts` maps
        controller -> mount point and defaults to the host's (tests pass a fake root)."""
        self.mounts = dict(v1_mounts() if mounts is None else mounts)
        if isinstance(paths, str):
            paths = dict.fromkeys(self.mounts, paths)
        self.paths = {c: p for c, p in paths.items() if c in self.mounts}
        self.rootless = rootless
        main = next((c for c in PREFERRED if c in self.paths), next(iter(self.paths), None))
        self.path = self.paths[main] if main is not None else "/"
        self.dirs = {c: _join(self.mounts[c], p) for c, p in self.paths.items()}
        self._created = False  # by create(): set() need not make every directory again

    def _unique_dirs(self) -> dict[str, str]:
        """directory -> controller, one entry per hierarchy (cpu,cpuacct share one)."""
        seen: dict[str, str] = {}
        for controller, d in self.dirs.items():
            seen.setdefault(d, controller)
        return seen

    def create(self) -> None:
        """Make the directory in every hierarchy (rootless: those it may); once per manager
        until destroy()."""
        if self._created:
            return
        for d, controller in list(self._unique_dirs().items()):
            try:
                if controller == "cpuset":
                    _make_cpuset(self.mounts[controller], self.paths[controller])
                else:
                    _mkdir(d)
            except OSError as e:
                if controller == UNIFIED or (self.rootless and e.errno in _DENIED):
                    self._drop(d)
                    continue
                raise CgroupError(
                    self.path, controller or "unified", f"mkdir {d}: {e.strerror}"
                ) from e
        self._created = True

    def _drop(self, directory: str) -> None:
        for c in [c for c, d in self.dirs.items() if d == directory]:
            del self.dirs[c]
            del self.paths[c]

    def apply(self, pid: int) -> None:
        self.create()
        self._enter(pid, "cgroup.procs", "cgroup.procs")

    def clone_target(self) -> str | None:
        """The unified hierarchy's directory, the one a process can be cloned into."""
        return self.dirs.get(UNIFIED)

    def join_self(self, placed: bool) -> None:
        """Move the calling single-threaded process in: through each v1 hierarchy's
        `tasks` ("0", the caller itself, which the kernel moves without its global attach
        lock), and through the unified cgroup.procs unless it was cloned there."""
        self._enter(0, "tasks", None if placed else "cgroup.procs")

    def _enter(self, pid: int, v1_file: str, unified_file: str | None) -> None:
        for d, controller in self._unique_dirs().items():
            name = unified_file if controller == UNIFIED else v1_file
            if name is None:
                continue
            try:
                files.write(d, name, pid)
            except CgroupError:
                if controller == UNIFIED or self.rootless:
                    continue  # best effort on the unified side of a hybrid host
                raise

    def load_setters(self, resources: Mapping[str, Any]) -> None:
        from porter_runtime.cgroups import v1_resources  # noqa: F401

    def set(self, resources: Mapping[str, Any]) -> None:
        if resources.get("unified"):
            raise CgroupError(
                self.path, "unified", "unified resources need cgroup v2; this host runs v1"
            )
        self.create()
        from porter_runtime.cgroups import v1_resources  # only create and update set limits

        for controller, (setter, keys) in v1_resources.SETTERS.items():
            if not v1_resources.requested(resources, keys):
                continue
            if controller not in self.dirs:
                if self.rootless:
                    warn(
                        __name__, "cgroup %s: %s unavailable; limits ignored", self.path, controller
                    )
                    continue
                raise CgroupError(self.path, controller, "controller not mounted on this host")
            setter(self.dirs[controller], resources)

    def _freezer(self) -> str:
        if "freezer" not in self.dirs:
            raise CgroupError(self.path, "freezer", "controller not mounted on this host")
        return self.dirs["freezer"]

    def freeze(self) -> None:
        d = self._freezer()
        from porter_runtime.cgroups import freezer

        freezer.wait_until(
            lambda: files.write(d, "freezer.state", "FROZEN"),
            lambda: files.read(d, "freezer.state") == "FROZEN",
            lambda: files.write(d, "freezer.state", "THAWED"),
            d,
            "freezer.state FROZEN",
        )

    def thaw(self) -> None:
        d = self._freezer()
        from porter_runtime.cgroups import freezer

        freezer.wait_until(
            lambda: files.write(d, "freezer.state", "THAWED"),
            lambda: files.read(d, "freezer.state") == "THAWED",
            None,
            d,
            "freezer.state THAWED",
        )

    def state(self) -> str:
        d = self.dirs.get("freezer")
        if d is None:
            return "running"
        return "paused" if files.read_or(d, "freezer.state") == "FROZEN" else "running"

    def pids(self) -> list[int]:
        for controller in PREFERRED:
            if controller in self.dirs:
                return files.read_pids(self.dirs[controller])
        return []

    def is_empty(self) -> bool:
        return not self.pids()

    def stats(self) -> dict[str, Any]:
        from porter_runtime.cgroups import v1_stats

        return v1_stats.collect(self.dirs)

    def directories(self) -> list[str]:
        return list(self._unique_dirs())

    def destroy(self) -> None:
        self._created = False
        rmdir_each(self._unique_dirs())


_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


def _join(mountpoint: str, path: str) -> str:
    return os.path.join(mountpoint, path.lstrip("/"))


def _mkdir(directory: str) -> None:
    """os.makedirs(directory, exist_ok=True) in one mkdir(2) where the parent exists, as it
    does for every container but the first under a cgroupsPath (create makes one directory
    per hierarchy, some ten on a v1 host, on the path it waits on)."""
    try:
        os.mkdir(directory)
    except FileNotFoundError:  # a missing parent
        os.makedirs(directory, exist_ok=True)
    except FileExistsError:
        if not os.path.isdir(directory):
            raise


def _make_cpuset(mountpoint: str, path: str) -> None:
    """Create each level, copying cpus and mems from the parent when empty.

    A new cpuset cgroup starts with no CPUs and no memory nodes and refuses tasks
    until both are set; runc fills them from the parent on the way down.
    """
    current = mountpoint
    for part in [p for p in path.split("/") if p]:
        parent, current = current, os.path.join(current, part)
        _mkdir(current)
        for name in ("cpuset.cpus", "cpuset.mems"):
            if not files.read_or(current, name):
                files.write(current, name, files.read(parent, name))
