"""Forking the init's stages and driving them through setup: shared by create and exec.

The runtime makes the container's cgroup, clones the first stage into it (the init itself
where the config allows, else stage A; the stage then joins the cgroup's v1 hierarchies),
writes the id maps when stage A asks, writes linux.resources once the init has made its
device nodes, runs the create hooks once the container's mounts are in place, passes its
seccomp notify descriptor on to the agent, and returns once the init waits on the exec fifo
(create) or the process has exec'd (exec). `Undo` takes back whatever a failure leaves behind.
"""

from __future__ import annotations

import os

from porter_runtime import state
from porter_runtime import syscalls as sc
from porter_runtime.errors import ContainerSetupError
from porter_runtime.log import warning

TYPE_CHECKING = False
if TYPE_CHECKING:  # imported where the stages fork; named here for the annotations only
    from porter_runtime import sync
    from porter_runtime.init import InitSpec

_CREATE_HOOKS = ("prestart", "createRuntime")
# new namespaces that need stage A: set up from outside before any process runs in them
_STAGED = sc.CLONE_NEWUSER | sc.CLONE_NEWTIME


def session_keyring_name(container_id: str) -> str:
    """The session keyring the container's processes share (runc's name for it)."""
    return f"_ses.{container_id}"


def compile_seccomp(config: dict) -> object | None:
    """The config's seccomp filter, compiled before anything is set up (a bad one fails
    early), or None without one."""
    seccomp = (config.get("linux") or {}).get("seccomp")
    if not seccomp:
        return None
    from porter_runtime.seccomp import compile_seccomp as compile_filter

    return compile_filter(seccomp)


def write_pid_file(path: str, pid: int) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(str(pid))
    os.rename(tmp, path)


class Undo:
    """What a failing create (or exec) must take back, in reverse order."""

    def __init__(self, cdir: state.ContainerDir, owned: bool = True) -> None:
        self.cdir = cdir
        self.owned = owned  # create owns the directory and cgroup; exec only its processes
        self.cgroup: object | None = None
        self.pids: list[int] = []
        self.host_rootfs = ""  # no mount namespace: the rootfs whose new mounts are ours
        self.host_before: set[int] = set()

    def run(self) -> None:
        for pid in reversed(self.pids):
            try:
                kill_and_reap(pid)
            except Exception as exc:  # the cgroup and directory must still go
                warning(f"killing process {pid}: {exc}")
        if not self.owned:
            return
        if self.host_rootfs:
            from porter_runtime.hostmounts import detach_new

            try:
                detach_new(self.host_rootfs, self.host_before)
            except Exception as exc:  # the original error matters more
                warning(f"unmounting {self.host_rootfs}: {exc}")
        if self.cgroup is not None:
            try:
                self.cgroup.destroy()
            except Exception as exc:  # the original error matters more
                warning(f"removing cgroup {getattr(self.cgroup, 'path', '')}: {exc}")
        self.cdir.remove()


def kill_and_reap(pid: int, timeout: float = 10.0) -> None:
    from porter_runtime.container import wait_gone

    try:  # noqa: SIM105 (contextlib costs start-up time)
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    wait_gone(pid, None, timeout)
    try:  # noqa: SIM105 (contextlib costs start-up time)
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: its parent reaps it
        pass


def run_stages(spec: InitSpec, saved: dict, undo: Undo) -> None:
    """Start the container's process and drive it until it is ready (create) or has
    exec'd: the init cloned straight into its namespaces where the config allows, else
    stage A, which makes the namespaces and forks B (init.py)."""
    from porter_runtime import sync
    from porter_runtime.init import child_main, preload

    preload(spec)
    target = _prepare_cgroup(spec, saved, undo)
    resources = _resources(spec)
    if resources is not None:
        spec.cgroup.load_setters(resources)
    parent, child = sync.pair()
    pid, spec.cgroup_placed = _first_stage(spec, target)
    if pid == 0:
        parent.close()
        child_main(spec, child)
    child.close()
    undo.pids.append(pid)
    if spec.direct:
        saved["pid"] = pid
    try:
        _drive(spec, saved, undo, parent, pid, resources)
    except BaseException:
        # kill the stages before their channel closes: a stage that saw it close would
        # report a second error of its own on stderr
        for stage in reversed(undo.pids):
            kill_and_reap(stage)
        undo.pids.clear()
        raise
    finally:
        parent.close()


def clones_init(spec: InitSpec) -> bool:
    """Whether the init can be cloned straight into its namespaces, one fork of the
    runtime's interpreter instead of two: a new container that joins no namespace and makes
    no user or time namespace (their id maps and clock offsets are written from outside
    before any process runs in them, which takes stage A)."""
    return not (spec.exec_mode or spec.join or spec.new & _STAGED)


def _first_stage(spec: InitSpec, target: str | None) -> tuple[int, bool]:
    """(pid, placed in the cgroup's v2 directory) of the container's first process. A
    cgroup namespace is left to the init, which makes it once it is in its cgroup."""
    from porter_runtime.cgroups.clone import clone, fork_into

    spec.direct = clones_init(spec)
    if spec.direct:
        pid, placed = clone(spec.new & ~sc.CLONE_NEWCGROUP, target)
        if pid >= 0:
            return pid, placed
        spec.direct = False  # the kernel refused: stage A says why, through unshare
    return fork_into(target)


def _drive(
    spec: InitSpec,
    saved: dict,
    undo: Undo,
    chan: sync.Channel,
    first: int,
    resources: dict | None = None,
) -> None:
    """Answer the init's messages until it is ready; `resources` (`_resources`) go into the
    cgroup when it says its device nodes exist."""
    config = spec.config
    while True:
        message = chan.recv()
        if message is None:
            if spec.exec_mode and saved.get("pid"):
                return  # every descriptor closed on execve: the process runs
            raise ContainerSetupError("container init exited during setup")
        kind = message["type"]
        if kind == "cgroup-denied":  # rootless, and the cgroup refused the first stage
            _without_cgroup(spec, saved, undo)
        elif kind == "usermap":
            _write_id_maps(first, config.get("linux") or {})
            chan.send("usermap-done")
        elif kind == "pid":
            saved["pid"] = message["pid"]
            undo.pids.append(message["pid"])
            os.waitpid(first, 0)  # stage A, done
            undo.pids.remove(first)
        elif not saved.get("pid"):  # B speaks only after A's "pid" (init.py)
            raise ContainerSetupError(f"container init sent {kind!r} before its pid")
        elif kind == "devices":  # sent only when there are resources (init.devices_made)
            if resources is not None and spec.cgroup is not None:
                spec.cgroup.set(resources)
            if message.get("wait"):
                chan.send("resources-set")
        elif kind == "mounted":  # the init stops here only for hooks (init.stops_for_hooks)
            from porter_runtime.hooks import hook_state, run_hooks

            state_json = hook_state(saved, "creating")
            hooks = config.get("hooks") or {}
            for name in _CREATE_HOOKS:
                run_hooks(name, hooks.get(name), state_json)
            chan.send("resume", state=state_json)
        elif kind == "seccomp":
            _send_to_agent(spec, saved, chan)
        elif kind == "ready":
            return


def _send_to_agent(spec: InitSpec, saved: dict, chan: sync.Channel) -> None:
    """The init's seccomp notify fd, on to the agent at listenerPath with the container's
    state (runtime-spec ContainerProcessState); the init waits for "seccomp-done"."""
    from porter_runtime.seccomp import send_seccomp_fd

    notify_fd = chan.take_fd()
    try:
        container = saved.get("container") or saved  # exec: the container's, not the process's
        status = saved.get("status", "creating")
        send_seccomp_fd(
            spec.seccomp, notify_fd, saved["pid"], state.public_state(container, status)
        )
    finally:
        os.close(notify_fd)
    chan.send("seccomp-done")


def _prepare_cgroup(spec: InitSpec, saved: dict, undo: Undo) -> str | None:
    """Create the container's cgroup before any of its processes exists (exec: find the
    container's); the first stage joins it itself (`init`). Returns the v2 directory to
    clone the first stage into, or None. linux.resources are written later (`_resources`).

    An unprivileged runtime (rootless) may not be allowed to create the cgroup at all. As
    runc does, the container then runs without one, unless the config asked for resources:
    those cannot be honoured, which is an error."""
    cgroup = undo.cgroup
    spec.cgroup = None
    if cgroup is None:
        return None
    try:
        cgroup.create()
        usable = getattr(cgroup, "dirs", None) != {}  # v1 drops what it may not create
    except Exception as exc:
        from porter_runtime.cgroups import not_allowed

        if not not_allowed(exc):
            raise
        usable = False
    if not usable:
        _without_cgroup(spec, saved, undo)
        return None
    spec.cgroup = cgroup
    return cgroup.clone_target()


def _resources(spec: InitSpec) -> dict | None:
    """The linux.resources create writes into the container's cgroup (with runc's default
    device rules), or None.

    As runc does, they are written once the init has made its device nodes (its "devices"
    message, init.devices_made), so that a device rule never stands between the init and a
    node it makes. The runtime writes them while the init goes on with its setup: the
    init's user process can run only after start, and create returns only once they are
    written (the init's "ready" comes after "devices"). The only device the init opens
    itself after its nodes, a terminal's pty, it opens once the runtime says they are set.
    Worked out before the fork, so that only the writes are left for then."""
    resources = (spec.config.get("linux") or {}).get("resources")
    if not resources or spec.exec_mode or spec.cgroup is None:
        return None
    return with_default_devices(resources, spec.config)


def _without_cgroup(spec: InitSpec, saved: dict, undo: Undo) -> None:
    """Go on without the cgroup the runtime may not use (see `_prepare_cgroup`)."""
    if spec.exec_mode:
        return
    if (spec.config.get("linux") or {}).get("resources"):
        from porter_runtime.errors import ConfigError

        raise ConfigError(
            "linux.resources",
            f"cannot be applied: uid {os.geteuid()} may not create cgroup "
            f"{undo.cgroup.path} (leave resources out, or delegate a cgroup to this user)",
        )
    try:  # noqa: SIM105 (contextlib costs start-up time)
        undo.cgroup.destroy()
    except Exception:
        pass
    undo.cgroup = None
    saved["cgroupPath"] = None


def with_default_devices(resources: dict, config: dict) -> dict:
    """The device rules runc applies: the config's, then the devices every container gets
    (null, zero, ptys, ...), so a config cannot take those away.

    linux.devices only creates nodes; access to them is the config's rules' business, so an
    explicit deny of one of them holds. As in runc, a default whose path linux.devices
    redefines is left to the config's rules too (runc's specconv createDevices)."""
    if "devices" not in resources:
        return resources
    from porter_runtime.cgroups import DEFAULT_ALLOWED_DEVICES
    from porter_runtime.devices import DEFAULT_DEVICES

    paths = {d.get("path") for d in (config.get("linux") or {}).get("devices") or []}
    redefined = {(t, ma, mi) for path, t, ma, mi in DEFAULT_DEVICES if path in paths}
    defaults = [
        rule
        for rule in DEFAULT_ALLOWED_DEVICES
        if (rule["type"], rule["major"], rule["minor"]) not in redefined
    ]
    return {**resources, "devices": [*resources["devices"], *defaults]}


def _write_id_maps(pid: int, linux: dict) -> None:
    """Stage A's uid and gid maps, directly or through newuidmap/newgidmap (`idmap`)."""
    from porter_runtime.idmap import write_id_maps

    write_id_maps(pid, linux)
