"""cgroup v2: one directory in the unified hierarchy, controllers enabled top-down.

A v2 cgroup only gets a controller's files when every ancestor lists it in
cgroup.subtree_control, so creating the cgroup enables what each level offers, as
runc does. Devices have no controller here; an eBPF program attached to the
directory enforces them. The mount point is a parameter so tests can point the
manager at a directory that mimics cgroupfs.
"""

from __future__ import annotations

import os

from porter_runtime.cgroups import files, freezer, v2_resources
from porter_runtime.cgroups.base import CGROUP_ROOT, CgroupError, rmdir_bounded
from porter_runtime.cgroups.devices import emulate
from porter_runtime.cgroups.stats import (
    empty_stats,
    hugetlb_sizes,
    io_stat_entries_v2,
    memory_entry,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Mapping
    from typing import Any


class CgroupV2Manager:
    """A container's cgroup on a unified (v2) hierarchy."""

    def __init__(self, path: str, mountpoint: str = CGROUP_ROOT, rootless: bool = False) -> None:
        if not path.startswith("/"):
            raise CgroupError(path, "path", "must be absolute within the hierarchy")
        self.path = path
        self.paths = {"": path}
        self.mountpoint = mountpoint
        self.rootless = rootless
        self.dir = os.path.join(mountpoint, path.lstrip("/"))
        self._created = False  # by create(): set() need not walk down the hierarchy again

    def create(self) -> None:
        """Make the directory, enabling controllers on the way down; once per manager until
        destroy()."""
        if self._created:
            return
        current = self.mountpoint
        for part in [p for p in self.path.split("/") if p]:
            _enable_controllers(current)
            current = os.path.join(current, part)
            try:
                os.makedirs(current, exist_ok=True)
            except OSError as e:
                raise CgroupError(self.path, "mkdir", f"{current}: {e.strerror}") from e
        self._created = True

    def apply(self, pid: int) -> None:
        self.create()
        files.write(self.dir, "cgroup.procs", pid)

    def clone_target(self) -> str | None:
        return self.dir

    def join_self(self, placed: bool) -> None:
        """Move the calling process in, unless it was cloned here already."""
        if not placed:
            files.write(self.dir, "cgroup.procs", 0)

    def load_setters(self, resources: Mapping[str, Any]) -> None:
        if resources.get("devices") is not None:
            from porter_runtime.cgroups import devices_bpf  # noqa: F401

    def set(self, resources: Mapping[str, Any]) -> None:
        self.create()
        for setter in v2_resources.SETTERS:
            setter(self.dir, resources)
        if resources.get("devices") is not None:
            from porter_runtime.cgroups.devices_bpf import install_policy

            install_policy(emulate(resources["devices"], self.dir), self.dir)
        v2_resources.set_unified(self.dir, resources)

    def freeze(self) -> None:
        self._set_frozen(True)

    def thaw(self) -> None:
        self._set_frozen(False)

    def _set_frozen(self, frozen: bool) -> None:
        if not files.exists(self.dir, "cgroup.freeze"):
            raise CgroupError(self.path, "cgroup.freeze", "the kernel has no cgroup v2 freezer")
        want = "1" if frozen else "0"
        freezer.wait_until(
            lambda: files.write(self.dir, "cgroup.freeze", want),
            lambda: files.read_keyed(self.dir, "cgroup.events").get("frozen") == int(want),
            (lambda: files.write(self.dir, "cgroup.freeze", "0")) if frozen else None,
            self.dir,
            f"cgroup.freeze {want}",
        )

    def state(self) -> str:
        return "paused" if files.read_or(self.dir, "cgroup.freeze") == "1" else "running"

    def pids(self) -> list[int]:
        return files.read_pids(self.dir)

    def is_empty(self) -> bool:
        return not self.pids()

    def kill(self) -> None:
        """SIGKILL every process in the cgroup at once (cgroup.kill, Linux 5.14+)."""
        files.write(self.dir, "cgroup.kill", 1)

    def directories(self) -> list[str]:
        return [self.dir]

    def destroy(self) -> None:
        self._created = False
        rmdir_bounded(self.dir)

    def stats(self) -> dict[str, Any]:
        d = self.dir
        stats = empty_stats()
        cpu = files.read_keyed(d, "cpu.stat")
        usage = stats["cpu"]["usage"]
        usage["total"] = cpu.get("usage_usec", 0) * 1000
        usage["user"] = cpu.get("user_usec", 0) * 1000
        usage["kernel"] = cpu.get("system_usec", 0) * 1000
        stats["cpu"]["throttling"] = {
            "periods": cpu.get("nr_periods", 0),
            "throttledPeriods": cpu.get("nr_throttled", 0),
            "throttledTime": cpu.get("throttled_usec", 0) * 1000,
        }
        stats["memory"] = _memory_stats(d)
        limit = files.read_or(d, "pids.max")
        stats["pids"] = {
            "current": files.read_uint(d, "pids.current"),
            "limit": 0 if limit == "max" else files.parse_uint(limit),
        }
        stats["blkio"].update(io_stat_entries_v2(d))
        stats["hugetlb"] = _hugetlb_stats(d)
        return stats


def _enable_controllers(directory: str) -> None:
    """Enable in `directory` every controller it offers, so its children get them.

    All at once first; if the kernel refuses (one controller busy or threaded), one by
    one, keeping whatever works: a missing controller only matters if a limit needs it.
    """
    available = files.read_or(directory, "cgroup.controllers").split()
    enabled = set(files.read_or(directory, "cgroup.subtree_control").split())
    wanted = [c for c in available if c not in enabled]
    if not wanted:
        return
    try:
        files.write(directory, "cgroup.subtree_control", " ".join("+" + c for c in wanted))
    except CgroupError:
        for controller in wanted:
            try:
                files.write(directory, "cgroup.subtree_control", "+" + controller)
            except CgroupError:
                continue  # one the kernel refuses here (e.g. cpu with realtime tasks)


def _memory_stats(d: str) -> dict[str, Any]:
    raw = files.read_keyed(d, "memory.stat")
    usage = memory_entry(
        limit=files.read_uint(d, "memory.max"),
        usage=files.read_uint(d, "memory.current"),
        max_usage=files.read_uint(d, "memory.peak"),
        failcnt=files.read_keyed(d, "memory.events").get("max", 0),
    )
    swap_limit = files.read_uint(d, "memory.swap.max")
    swap = memory_entry(  # v1 reports memory+swap; so does runc on v2
        limit=swap_limit if swap_limit == files.UINT64_MAX else swap_limit + usage["limit"],
        usage=files.read_uint(d, "memory.swap.current") + usage["usage"],
        max_usage=files.read_uint(d, "memory.swap.peak"),
        failcnt=files.read_keyed(d, "memory.swap.events").get("max", 0),
    )
    return {
        "cache": raw.get("file", 0),
        "usage": usage,
        "swap": swap,
        "kernel": memory_entry(usage=raw.get("kernel", 0)),
        "kernelTCP": memory_entry(usage=raw.get("sock", 0)),
        "raw": raw,
    }


def _hugetlb_stats(d: str) -> dict[str, dict[str, int]]:
    return {
        size: {
            "usage": files.read_uint(d, f"hugetlb.{size}.current"),
            "max": 0,
            "failcnt": files.read_keyed(d, f"hugetlb.{size}.events").get("max", 0),
        }
        for size in hugetlb_sizes(d, ".current")
    }
