"""Forking a process straight into its cgroup and namespaces (clone3).

Writing a pid into cgroup.procs takes the kernel's global cgroup_threadgroup_rwsem for
writing, and the first writer after a quiet spell waits for an RCU grace period: 5 to 20 ms
on this kind of host, a third of a whole `run` (runc pays it on every container). A process
cloned into its cgroup (CLONE_INTO_CGROUP) takes that lock for reading only, and a single
thread moving itself through a v1 hierarchy's `tasks` file does not take it at all
(`join_self` of the managers). So the runtime clones the container's first process into its
v2 directory (the unified one on a hybrid host), and that process joins the v1 hierarchies
itself. clone3 also creates the new namespaces the child is born in, which saves the
runtime a stage where the config allows it (`launch`).

clone3 goes through `cabi` with the interpreter's own fork hooks around it, as os.fork
does: the import lock, at-fork callbacks and thread states are looked after exactly as
there. The child's cached thread id in libc is its parent's; the runtime's stages never
ask libc for it (gettid and raise use the system call), and processes they fork get their
own.
"""

from __future__ import annotations

import os

_SYS_CLONE3 = 435  # x86_64 and aarch64 alike (the generic syscall table)
_CLONE_INTO_CGROUP = 0x200000000
_SIGCHLD = 17

_api = None  # the interpreter's fork hooks and syscall(2), bound on first use


def fork_into(directory: str | None) -> tuple[int, bool]:
    """fork(), with the child placed in cgroup v2 `directory` from its first instruction.

    Returns (pid, placed): pid as os.fork() returns it; placed tells whether the child was
    cloned into `directory`. Where clone3 cannot do it (no directory, an old kernel, a
    cgroup this user may not write) this is a plain os.fork() and placed is False."""
    if directory is None:
        return os.fork(), False
    pid, placed = clone(0, directory)
    if pid < 0:
        return os.fork(), False
    return pid, placed


def clone(flags: int, directory: str | None) -> tuple[int, bool]:
    """clone3 with `flags` (the CLONE_NEW* namespaces the child is born in), the child
    placed in cgroup v2 `directory` when that is given and allowed.

    Returns (pid, placed) as fork_into does, or pid -1 when the kernel refuses `flags`."""
    fd = -1
    if directory is not None:
        try:
            fd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            fd = -1
    try:
        if fd >= 0:
            pid = _clone3(flags | _CLONE_INTO_CGROUP, fd)
            if pid >= 0:
                return pid, True
        return _clone3(flags, 0), False
    finally:
        if fd >= 0:
            os.close(fd)


def _clone3(flags: int, cgroup_fd: int) -> int:
    """The child's pid (0 in the child), or -1 when clone3 refused."""
    from porter_runtime.syscalls import cabi

    global _api
    if _api is None:
        # the GIL is kept through the call, as os.fork does, so the child's interpreter
        # state is exactly the parent's at the moment of the fork
        _api = cabi.Library(hold_gil=True)
        _api.syscall.restype = cabi.c_long
    args = (cabi.c_uint64 * 11)()  # struct clone_args, version 2 (with .cgroup)
    args[0] = flags
    args[4] = _SIGCHLD  # exit_signal
    args[10] = cgroup_fd  # cgroup, read with CLONE_INTO_CGROUP only
    _api.PyOS_BeforeFork()
    pid = _api.syscall(_SYS_CLONE3, cabi.byref(args), cabi.sizeof(args))
    if pid == 0:
        _api.PyOS_AfterFork_Child()
    else:
        _api.PyOS_AfterFork_Parent()
    return pid
