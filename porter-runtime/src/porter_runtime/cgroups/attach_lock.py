"""Hiding the kernel's wait on the first cgroup attach behind the runtime's own start-up.

Moving a process into a cgroup (a write to cgroup.procs, v1 or v2) takes the kernel's
global cgroup_threadgroup_rwsem for writing, and the first writer after a quiet spell waits
for an RCU grace period: 5 to 20 ms on this kind of host, a third of a whole `run`, which
runc pays too. Writers that arrive while a grace period is pending, or just after it, go
through at once. So `create` and `run` begin by forking a throwaway child that moves itself
into the cgroup it is already in (a no-op for the kernel apart from the lock); its wait
overlaps the runtime's imports and config checks, and the container's own attach a few
milliseconds later finds the lock ready. Nothing depends on it: a failed write is ignored.
"""

from __future__ import annotations

import os

from porter_runtime.cgroups.base import CGROUP_ROOT


def _own_procs_files() -> list[str]:
    """cgroup.procs of this process's own cgroups, v1 hierarchies first."""
    try:
        with open("/proc/self/cgroup", "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return []
    v1, unified = [], []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers:
            name = controllers.removeprefix("name=")
            v1.append(f"{CGROUP_ROOT}/{name}{path}/cgroup.procs")
        else:
            unified += [
                f"{CGROUP_ROOT}{path}/cgroup.procs",
                f"{CGROUP_ROOT}/unified{path}/cgroup.procs",
            ]
    return v1 + unified


def prime() -> int:
    """Start the grace period in a child; returns its pid for `reap` (0 when not started)."""
    if os.geteuid() != 0:
        return 0  # rootless: the runtime usually cannot write cgroup.procs at all
    files = _own_procs_files()
    if not files:
        return 0
    try:
        pid = os.fork()
    except OSError:
        return 0
    if pid:
        return pid
    try:
        for path in files:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                os.write(fd, b"0")  # "0": the writer itself
                break
            except OSError:
                continue
            finally:
                os.close(fd)
    finally:
        os._exit(0)


def reap(pid: int) -> None:
    """Collect the child of `prime` (long done by the time a create has attached its own)."""
    if pid > 0:
        try:  # noqa: SIM105 (contextlib costs start-up time)
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
