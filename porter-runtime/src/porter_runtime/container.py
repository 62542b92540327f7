"""A container that exists, as every operation after create finds it: its directory, saved
state, cgroup and status, and the processes that are its.

`state`, `list` and `ps` need nothing more, so this module stays small and imports little.
Creating a container is `porter_runtime.creation` (with `porter_runtime.launch`, which exec
shares); start, kill and delete are `porter_runtime.lifecycle`.
"""

from __future__ import annotations

import os

from porter_runtime import state
from porter_runtime.errors import ContainerNotFoundError


def open_container(root: str, container_id: str, lock: bool = True) -> tuple:
    """(dir, saved state, cgroup, status) of an existing container."""
    cdir = state.ContainerDir(root, container_id)
    if lock:
        cdir.lock()
    try:
        saved = cdir.load()
    except ContainerNotFoundError:
        cdir.unlock()
        raise
    cgroup = load_cgroup(saved)
    return cdir, saved, cgroup, state.status(saved, cdir, cgroup)


def load_cgroup(saved: dict) -> object | None:
    path = saved.get("cgroupPath")
    if not path:
        return None
    return _SavedCgroup(path, saved.get("cgroupDirs"))


class _SavedCgroup:
    """A container's saved cgroup, opened on first use: building a manager reads and parses
    the host's mount table, and `start` or `state` of a created container never need it. Nor
    does `delete` of a stopped one: create saved the cgroup's directories, which is all that
    removing them takes (as runc keeps its cgroup paths in its state)."""

    __slots__ = ("_dirs", "_manager", "_path")

    def __init__(self, path: str, dirs: list[str] | None = None) -> None:
        self._path = path
        self._dirs = dirs  # None: saved by a runtime that did not record them
        self._manager: object | None = None

    def destroy(self) -> None:
        """Remove the saved directories: each an empty leaf once the container has stopped,
        which one rmdir removes; only what that leaves (child cgroups, a cgroup the kernel
        still holds busy) goes through the cgroup package's bounded removal (importing that
        package was a quarter of what delete does beyond starting the interpreter)."""
        if self._manager is not None or self._dirs is None:
            self._opened().destroy()
            return
        left = []
        for directory in self._dirs:
            try:
                os.rmdir(directory)
            except FileNotFoundError:
                pass
            except OSError:
                left.append(directory)
        if left:
            from porter_runtime.cgroups.base import rmdir_each

            rmdir_each(left)

    def __getattr__(self, name: str) -> object:
        return getattr(self._opened(), name)

    def _opened(self) -> object:
        if self._manager is None:
            try:
                from porter_runtime.cgroups import load_cgroup_manager
            except ImportError as exc:
                from porter_runtime.errors import CgroupsUnavailableError

                raise CgroupsUnavailableError(f"cgroup {self._path}: no cgroups package") from exc
            self._manager = load_cgroup_manager(self._path)
        return self._manager


def container_pids(saved: dict, cgroup: object | None) -> list[int]:
    """Every process of the container: from its cgroup, else by its pid namespace."""
    if cgroup is not None:
        return list(cgroup.pids())
    pid = saved["pid"]
    try:
        target = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return []
    if target == os.readlink("/proc/self/ns/pid"):
        return [pid]  # no pid namespace of its own: only the init is known to be its
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.readlink(f"/proc/{name}/ns/pid") == target:
                    found.append(int(name))
            except OSError:
                continue
    return found


def wait_gone(pid: int, start_time: int | None, timeout: float) -> bool:
    """Block until `pid` has exited (a zombie counts), at most `timeout` seconds; False if it
    still runs. A pidfd becomes readable the moment the process ends, so no polling interval
    adds to the latency. With `start_time`, a different process wearing the pid counts as
    gone."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        if start_time is not None and state.process_start_time(pid) != start_time:
            return True
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(int(timeout * 1000)))
    finally:
        os.close(fd)
