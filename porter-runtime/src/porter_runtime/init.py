"""The container's side of create and exec: forked stages of the runtime process.

Stage A enters the namespaces (joins by path, creates the rest with unshare; the runtime
writes the uid/gid maps of a new user namespace in between) and forks stage B, which is
pid 1 of a new pid namespace; A reports B's pid and exits, so B outlives the runtime.
A container that only makes new namespaces, none of them user or time, has no stage A: the
runtime clones B straight into them (`launch`), and B joins its cgroup itself.
For create, B builds the root filesystem, applies the process attributes, reports ready and
blocks on the exec fifo until `start`; for exec, B applies the attributes and execs at once.

Both stages are non-dumpable from their first instruction until execve, so no process in the
container can open /proc/<pid>/exe of the runtime's interpreter (runc's CVE-2019-5736).
Nothing here returns to the caller: each stage ends in os._exit or os.execve.
"""

from __future__ import annotations

import os
import sys

from porter_runtime import namespaces, process, rootfs
from porter_runtime import syscalls as sc
from porter_runtime.capabilities import CapabilityPlan
from porter_runtime.errors import PorterError

# signals that end a created container's init while it waits for start
_EXIT_SIGNALS = (1, 2, 3, 10, 12, 15)
# the hooks run after the init's mounts, in the runtime (the first two) or in the init
_STATE_HOOKS = ("prestart", "createRuntime", "createContainer", "startContainer")


class InitSpec:
    """Everything the forked stages need (they share the runtime's memory: no encoding)."""

    __slots__ = (
        "bundle",
        "cgroup",
        "cgroup_placed",
        "close_fds",
        "config",
        "console_fd",
        "direct",
        "exec_mode",
        "extra_env",
        "host_mounts",
        "join",
        "keyring",
        "new",
        "no_pivot",
        "preserve_fds",
        "process",
        "root_fd",
        "rootfs",
        "seccomp",
        "state_dir_fd",
    )

    def __init__(
        self,
        config: dict,
        process_config: dict | None,
        *,
        exec_mode: bool = False,
        bundle: str = "",
        rootfs_path: str = "",
        new: int = 0,
        join: list[tuple[str, str]] | None = None,
        state_dir_fd: int = -1,
        console_fd: int = -1,
        no_pivot: bool = False,
        preserve_fds: int = 0,
        seccomp: object = None,
        extra_env: list[str] | None = None,
    ) -> None:
        self.config = config
        self.process = process_config
        self.exec_mode = exec_mode
        self.bundle = bundle
        self.rootfs = rootfs_path
        self.new = new
        self.join = join or []
        self.state_dir_fd = state_dir_fd
        self.console_fd = console_fd
        self.no_pivot = no_pivot
        self.preserve_fds = preserve_fds
        self.seccomp = seccomp
        self.extra_env = extra_env or []
        # exec into a container without a mount namespace: its init's root, to chroot into
        self.root_fd = -1
        # the session keyring to join ("_ses.<id>"), or "" to keep the caller's
        self.keyring = ""
        # the container's cgroup manager, for stage A to join (None: no cgroup), and
        # whether stage A was cloned into its v2 directory already
        self.cgroup: object | None = None
        self.cgroup_placed = False
        # the runtime's visible mounts as its cgroup manager was built from them (None: not
        # read); a new mount namespace of the init is a copy of them (rootfs.MountContext)
        self.host_mounts: list | None = None
        # the init was cloned straight into its new namespaces: no stage A (launch.py)
        self.direct = False
        # the runtime's own descriptors the stages must not keep (the container lock: a
        # flock lives as long as any process holds its descriptor)
        self.close_fds: list[int] = []


def preload(spec: InitSpec) -> None:
    """Import, in the runtime, every module the stages may need later: once B has pivoted
    (or joined the container's mount namespace) the host's Python library is out of sight.
    The system calls' module too, which every stage uses first thing: imported after the
    fork, it would be paid for twice, in time and in copied pages (a forked interpreter
    copies each page it writes, and an import writes many)."""
    import resource  # noqa: F401
    import select  # noqa: F401

    import porter_runtime.syscalls.linux

    if (spec.process or {}).get("terminal"):
        import fcntl  # noqa: F401
        import socket  # noqa: F401
        import struct  # noqa: F401

        from porter_runtime import console  # noqa: F401
    if spec.config.get("hooks"):
        import subprocess  # noqa: F401

        from porter_runtime import hooks  # noqa: F401
    if spec.seccomp is not None:
        import porter_runtime.seccomp  # noqa: F401


def child_main(spec: InitSpec, chan: object) -> None:
    """Entry of the forked stage A; reports any failure through the channel, never returns."""
    code = 1
    try:
        for fd in spec.close_fds:
            os.close(fd)
        if spec.direct:
            _stage_direct(spec, chan)
        else:
            _stage_a(spec, chan)
    except PorterError as exc:
        _report(chan, str(exc))
    except OSError as exc:
        _report(chan, f"{exc.filename or 'container setup'}: {exc.strerror or exc}")
    except BaseException as exc:
        _report(chan, f"container setup failed: {type(exc).__name__}: {exc}")
    os._exit(code)


def _report(chan: object, message: str) -> None:
    try:
        chan.send("error", message=message)
    except OSError:
        sys.stderr.write(f"porter-runtime: error: {message}\n")


def _stage_a(spec: InitSpec, chan: object) -> None:
    from porter_runtime.syscalls.linux import LinuxSyscalls

    calls = LinuxSyscalls()
    calls.prctl(sc.PR_SET_DUMPABLE, 0)
    if spec.cgroup is not None:  # first: a cgroup namespace is rooted where it is made
        _join_cgroup(spec, chan)
    fds = namespaces.open_join_fds(spec.join)
    namespaces.join_all(calls, [f for f in fds if f[1] == sc.CLONE_NEWUSER])
    if spec.new & sc.CLONE_NEWUSER:
        unprivileged = os.geteuid() != 0
        calls.unshare(sc.CLONE_NEWUSER)
        if unprivileged:  # /proc/<pid>/uid_map of a non-dumpable process is root's to write
            calls.prctl(sc.PR_SET_DUMPABLE, 1)
        chan.send("usermap")
        chan.expect("usermap-done")
        if unprivileged:  # nothing of the container runs yet: back to non-dumpable at once
            calls.prctl(sc.PR_SET_DUMPABLE, 0)
        _become_root()
    namespaces.join_all(calls, [f for f in fds if f[1] != sc.CLONE_NEWUSER])
    rest = spec.new & ~sc.CLONE_NEWUSER
    if rest:
        calls.unshare(rest)
    if rest & sc.CLONE_NEWTIME:
        _time_offsets((spec.config.get("linux") or {}).get("timeOffsets") or {})
    # A and B share the channel, and every message of B's needs B's pid in the runtime
    # (the hooks' state, the seccomp agent's, the saved state): B says nothing until A has
    # sent "pid" and exited, which closes the pipe's write end. Without this wait a busy
    # host could schedule B's "ready" first, and create would save the container with pid 0.
    hold, release = os.pipe()
    pid = os.fork()
    if pid:
        chan.send("pid", pid=pid)
        os._exit(0)
    os.close(release)
    os.read(hold, 1)  # end of file: A is gone
    os.close(hold)
    _stage_b(spec, chan, calls)


def _stage_direct(spec: InitSpec, chan: object) -> None:
    """The init, cloned straight into its new namespaces: what stage A would do for it (the
    cgroup, then a cgroup namespace rooted there), then stage B."""
    from porter_runtime.syscalls.linux import LinuxSyscalls

    calls = LinuxSyscalls()
    calls.prctl(sc.PR_SET_DUMPABLE, 0)
    if spec.cgroup is not None:
        _join_cgroup(spec, chan)
    if spec.new & sc.CLONE_NEWCGROUP:
        calls.unshare(sc.CLONE_NEWCGROUP)
    _stage_b(spec, chan, calls)


def _join_cgroup(spec: InitSpec, chan: object) -> None:
    """Into the container's cgroup (see cgroups/clone.py for why stage A moves itself); a
    rootless runtime that may not tells the runtime, which goes on without the cgroup."""
    from porter_runtime.cgroups import not_allowed

    try:
        spec.cgroup.join_self(spec.cgroup_placed)
    except Exception as exc:
        if not not_allowed(exc):
            raise
        chan.send("cgroup-denied")


def _become_root() -> None:
    try:
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
    except OSError:
        pass  # root is not mapped: stay the mapped user


def _time_offsets(offsets: dict) -> None:
    lines = "".join(
        f"{clock} {v.get('secs', 0)} {v.get('nanosecs', 0)}\n" for clock, v in offsets.items()
    )
    if lines:
        with open("/proc/self/timens_offsets", "w") as f:
            f.write(lines)


def _stage_b(spec: InitSpec, chan: object, calls: object) -> None:
    if spec.keyring:
        linux = spec.config.get("linux") or {}
        process.join_session_keyring(calls, spec.keyring, _has_ns(linux, "user"))
    if spec.exec_mode:
        if spec.root_fd >= 0:  # the container shares our mount namespace: enter its root
            os.fchdir(spec.root_fd)
            os.chroot(".")
            os.close(spec.root_fd)
        process.set_descriptors(spec.preserve_fds)
        if spec.process.get("terminal"):
            from porter_runtime.console import setup_terminal

            os.setsid()
            setup_terminal(calls, spec.console_fd, spec.process.get("consoleSize"), False)
        _finish_process(spec, chan, calls, state_json="")
        return
    os.setsid()
    os.umask(0)
    process.set_descriptors(spec.preserve_fds)
    state_json = _build_rootfs(spec, chan, calls)
    if spec.process is None:
        _wait_for_start(spec, chan)  # start refuses: the init waits until killed
        os._exit(1)
    _finish_process(spec, chan, calls, state_json)


def _build_rootfs(spec: InitSpec, chan: object, calls: object) -> str:
    """Mounts, devices, createContainer hooks, pivot_root, masks: the container's filesystem."""
    config = spec.config
    linux = config.get("linux") or {}
    mounts = config.get("mounts") or []
    ctx = rootfs.MountContext(
        spec.rootfs,
        spec.bundle,
        bool(_has_ns(linux, "user")),
        bool(_has_ns(linux, "cgroup")),
        linux.get("mountLabel") or "",
        spec.host_mounts if spec.new & sc.CLONE_NEWNS else None,
    )
    host_ns = not _has_ns(linux, "mount")
    rootfs.prepare_root(calls, spec.rootfs, linux.get("rootfsPropagation") or "", host_ns)
    rootfs.mount_all(calls, ctx, mounts)
    if rootfs.needs_dev_setup(mounts):
        rootfs.setup_dev(calls, ctx, linux.get("devices") or [])
    devices_made(spec, chan)
    state_json = ""  # what the createContainer and startContainer hooks get on stdin
    if stops_for_hooks(config):
        from porter_runtime.hooks import run_hooks  # preloaded: the config has hooks

        chan.send("mounted")
        state_json = _as_seen_inside(chan.expect("resume")["state"])
        run_hooks("createContainer", (config.get("hooks") or {}).get("createContainer"), state_json)
    rootfs.pivot(calls, spec.rootfs, spec.no_pivot, host_ns)
    if (spec.process or {}).get("terminal"):
        from porter_runtime.console import setup_terminal

        setup_terminal(calls, spec.console_fd, spec.process.get("consoleSize"))
    _sysctl(linux.get("sysctl") or {})
    rootfs.readonly_paths(calls, linux.get("readonlyPaths") or [])
    rootfs.mask_paths(calls, linux.get("maskedPaths") or [])
    if not host_ns:
        rootfs.apply_root_propagation(calls, linux.get("rootfsPropagation") or "")
    if (config.get("root") or {}).get("readonly"):
        rootfs.readonly_root(calls)
    if config.get("hostname"):
        calls.sethostname(config["hostname"])
    if config.get("domainname"):
        calls.setdomainname(config["domainname"])
    return state_json


def devices_made(spec: InitSpec, chan: object) -> None:
    """Tell the runtime that the device nodes exist, where it has linux.resources to write
    into the cgroup then (launch._resources says why then). Writing the device rules, it
    denies every device for a moment: a terminal's pty, opened below, waits until they are
    written; nothing else this process does after here opens a device node."""
    if spec.cgroup is None or not (spec.config.get("linux") or {}).get("resources"):
        return
    terminal = bool((spec.process or {}).get("terminal"))
    chan.send("devices", wait=terminal)
    if terminal:
        chan.expect("resources-set")


def stops_for_hooks(config: dict) -> bool:
    """Whether the init, its mounts made, stops for the runtime: to let it run the prestart
    and createRuntime hooks, and to get the state that createContainer and startContainer
    hooks are given. Without any of those there is nothing to wait for, and create is spared
    a round trip between the two processes (two wake-ups on a busy host)."""
    hooks = config.get("hooks") or {}
    return any(hooks.get(kind) for kind in _STATE_HOOKS)


def _as_seen_inside(state_json: str) -> str:
    """The state for createContainer and startContainer, which run in the container's
    namespaces: runtime.md "State" says their pid is "the pid as seen by the container"
    (1 in a pid namespace of its own), where the runtime's hooks get the host's."""
    from porter_runtime import jsonio

    state = jsonio.loads(state_json)
    state["pid"] = os.getpid()
    return jsonio.dumps(state)


def _has_ns(linux: dict, kind: str) -> bool:
    return any(n.get("type") == kind for n in linux.get("namespaces") or [])


def _sysctl(values: dict[str, str]) -> None:
    from porter_runtime.errors import ConfigError

    for key, value in values.items():
        path = "/proc/sys/" + key.replace(".", "/")
        try:
            with open(path, "w") as f:
                f.write(value)
        except OSError as exc:
            raise ConfigError(f"sysctl {key}", exc.strerror or str(exc)) from exc


def _finish_process(spec: InitSpec, chan: object, calls: object, state_json: str) -> None:
    """Process attributes in runc's order, then ready, the exec fifo, and execve."""
    proc = spec.process
    linux = spec.config.get("linux") or {}
    process.apply_lsm_labels(proc)
    process.apply_rlimits(proc.get("rlimits") or [])
    process.apply_oom_score(proc.get("oomScoreAdj"))
    process.apply_scheduling(calls, proc)
    process.apply_affinity(proc, "initial")
    os.umask((proc.get("user") or {}).get("umask", 0o022))
    nnp = bool(proc.get("noNewPrivileges"))
    if spec.seccomp is not None and not nnp:
        _install_seccomp(spec.seccomp, chan)
    process.apply_nnp(calls, proc)
    process.apply_identity(calls, proc, CapabilityPlan(proc.get("capabilities")))
    cwd = proc.get("cwd") or "/"
    try:
        os.chdir(cwd)
    except OSError as exc:
        from porter_runtime.errors import ConfigError

        raise ConfigError(f"process cwd {cwd}", exc.strerror or str(exc)) from exc
    env = process.container_env(proc, spec.extra_env)
    args = proc.get("args") or []
    executable = process.find_executable(args[0], env)
    late_seccomp = spec.seccomp is not None and nnp
    if late_seccomp and not spec.exec_mode and getattr(spec.seccomp, "uses_notify", False):
        # the notify fd travels over the channel, which closes when the init is ready: install
        # now, before start, as runc does (late enough that only the runtime's waiting remains)
        _install_seccomp(spec.seccomp, chan)
        late_seccomp = False
    if not spec.exec_mode:
        _wait_for_start(spec, chan)
        _start_hooks(spec, state_json)
    if late_seccomp:
        _install_seccomp(spec.seccomp, chan)
    process.apply_affinity(proc, "final")
    process.apply_personality(calls, linux)
    os.execve(executable, args, env)


def _wait_for_start(spec: InitSpec, chan: object) -> None:
    """Report ready, then block on the exec fifo until `start` opens it."""
    import _signal

    def _leave(signum: int, _frame: object) -> None:
        os._exit(128 + signum)

    for signum in _EXIT_SIGNALS:
        _signal.signal(signum, _leave)
    chan.send("ready")
    chan.close()
    fd = os.open("exec.fifo", os.O_WRONLY | os.O_CLOEXEC, dir_fd=spec.state_dir_fd)
    os.write(fd, b"0")
    os.close(fd)
    os.close(spec.state_dir_fd)
    for signum in _EXIT_SIGNALS:
        _signal.signal(signum, _signal.SIG_DFL)


def _start_hooks(spec: InitSpec, state_json: str) -> None:
    hooks = (spec.config.get("hooks") or {}).get("startContainer")
    if not hooks:
        return
    from porter_runtime import jsonio
    from porter_runtime.hooks import run_hooks

    # The create operation has finished by the time `start` runs these: the container is
    # "created" (runtime.md), no longer "creating" as the createContainer hooks saw it.
    state = jsonio.loads(state_json)
    state["status"] = "created"
    try:
        run_hooks("startContainer", hooks, jsonio.dumps(state))
    except PorterError as exc:
        sys.stderr.write(f"porter-runtime: error: {exc}\n")
        os._exit(1)


def _install_seccomp(program: object, chan: object) -> None:
    """Load the filter; a notify fd goes to the runtime (which sends it to the agent at
    listenerPath: the init cannot reach a host path once it has pivoted) and is closed
    here, so the container process never holds its own listener."""
    from porter_runtime.seccomp import install_seccomp

    notify_fd = install_seccomp(program)
    if notify_fd is not None:
        chan.send("seccomp", _fds=(notify_fd,))
        chan.expect("seccomp-done")
        os.close(notify_fd)
