"""The container lifecycle of the runtime-spec: create, start, state, kill, delete.

Each operation checks the state it requires and raises WrongStateError otherwise; create
undoes everything it did when any step fails, so a failed create leaves no process, cgroup,
mount or state directory behind.
"""

from __future__ import annotations

import os
import time

from porter_runtime import jsonio, state
from porter_runtime.errors import ContainerNotFoundError, ContainerSetupError, WrongStateError
from porter_runtime.hooks import run_hooks, run_warning

TYPE_CHECKING = False
if TYPE_CHECKING:  # create-only modules are imported where used: start and delete skip them
    from porter_runtime import sync

_CREATE_HOOKS = ("prestart", "createRuntime")


def _warn(message: str) -> None:
    from porter_runtime.log import warning

    warning(message)


def cgroup_manager(config: dict, container_id: str) -> object | None:
    """The cgroup manager for this container, or None where the cgroups package is absent."""
    try:
        from porter_runtime.cgroups import cgroup_manager as make
    except ImportError:
        return None
    return make(config.get("linux") or {}, container_id, os.geteuid() != 0)


def load_cgroup(saved: dict) -> object | None:
    path = saved.get("cgroupPath")
    if not path:
        return None
    return _SavedCgroup(path)


class _SavedCgroup:
    """A container's saved cgroup, opened on first use: building a manager reads the host's
    mounts, and `start`, `delete` of a stopped container or `state` of a created one never
    need it."""

    __slots__ = ("_manager", "_path")

    def __init__(self, path: str) -> None:
        self._path = path
        self._manager: object | None = None

    def __getattr__(self, name: str) -> object:
        if self._manager is None:
            try:
                from porter_runtime.cgroups import load_cgroup_manager
            except ImportError as exc:
                from porter_runtime.errors import CgroupsUnavailableError

                raise CgroupsUnavailableError(f"cgroup {self._path}: no cgroups package") from exc
            self._manager = load_cgroup_manager(self._path)
        return getattr(self._manager, name)


def _timestamp() -> str:
    now = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}Z"


def _owner() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


class Created:
    """What create hands to `run`: the directory, the saved state, the cgroup."""

    __slots__ = ("cdir", "cgroup", "state")

    def __init__(self, cdir: state.ContainerDir, saved: dict, cgroup: object | None) -> None:
        self.cdir = cdir
        self.state = saved
        self.cgroup = cgroup


def create(
    root: str,
    container_id: str,
    bundle: str,
    *,
    pid_file: str | None = None,
    console_socket: str | None = None,
    no_pivot: bool = False,
    preserve_fds: int = 0,
    no_new_keyring: bool = False,
) -> Created:
    """Set the container up and leave its init waiting on the exec fifo."""
    from porter_runtime import config as configs
    from porter_runtime.checks import check_config
    from porter_runtime.namespaces import NamespacePlan

    cdir = state.ContainerDir(root, container_id)
    bundle = os.path.abspath(bundle)
    config = configs.load(bundle, os.path.join(root, ".validated"))
    rootfs_path = configs.rootfs_path(bundle, config)
    plan = NamespacePlan((config.get("linux") or {}).get("namespaces") or [])
    plan.check_paths()
    check_config(config, plan, console_socket)
    seccomp = _compile_seccomp(config)
    # not a child subreaper here: a created init outlives the runtime anyway, and leaving out
    # ctypes lets stage A import it while the runtime sets up the cgroup (`run`, which waits
    # for the init as its child, makes itself the subreaper before calling create)
    cdir.create()
    undo = _Undo(cdir)
    try:
        if "mount" not in plan.types:  # its mounts land in ours: note what is there now
            from porter_runtime import hostmounts

            undo.host_rootfs = rootfs_path
            undo.host_before = hostmounts.current_ids(rootfs_path)
        os.mkfifo(cdir.fifo, 0o622)
        os.chmod(cdir.fifo, 0o622)  # past the umask: the init may run as any user
        undo.cgroup = cgroup_manager(config, container_id)
        saved = {
            "id": container_id,
            "pid": 0,
            "startTime": None,
            "bundle": bundle,
            "rootfs": rootfs_path,
            "created": _timestamp(),
            "owner": _owner(),
            "annotations": config.get("annotations") or {},
            "config": config,
            "cgroupPath": getattr(undo.cgroup, "path", None),
            "noPivot": no_pivot,
            "noNewKeyring": no_new_keyring,
        }
        from porter_runtime.init import InitSpec

        spec = InitSpec(
            config,
            config.get("process"),  # None: the init waits, start fails (runtime-spec)
            bundle=bundle,
            rootfs_path=rootfs_path,
            new=plan.new,
            join=plan.join,
            no_pivot=no_pivot,
            preserve_fds=preserve_fds + _listen_fds(),
            seccomp=seccomp,
            extra_env=_listen_env(),
        )
        spec.close_fds.append(cdir.lock_fd)
        spec.keyring = "" if no_new_keyring else session_keyring_name(container_id)
        spec.state_dir_fd = os.open(cdir.path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        if console_socket:
            from porter_runtime.console import connect

            spec.console_fd = connect(console_socket)
        try:
            _launch(spec, saved, undo)
        finally:
            for fd in (spec.state_dir_fd, spec.console_fd):
                if fd >= 0:
                    os.close(fd)
        saved["startTime"] = state.process_start_time(saved["pid"])
        if undo.host_rootfs:
            saved["hostMount"] = hostmounts.new_since(rootfs_path, undo.host_before)
        cdir.save(saved)
        if pid_file:
            _write_pid_file(pid_file, saved["pid"])
    except BaseException:
        undo.run()
        raise
    cdir.unlock()
    return Created(cdir, saved, undo.cgroup)


def session_keyring_name(container_id: str) -> str:
    """The session keyring the container's processes share (runc's name for it)."""
    return f"_ses.{container_id}"


def _compile_seccomp(config: dict) -> object | None:
    seccomp = (config.get("linux") or {}).get("seccomp")
    if not seccomp:
        return None
    from porter_runtime.seccomp import compile_seccomp

    return compile_seccomp(seccomp)


def _listen_fds() -> int:
    """Socket activation (LISTEN_FDS) passes its descriptors on, as runc does."""
    value = os.environ.get("LISTEN_FDS", "")
    return int(value) if value.isdigit() else 0


def _listen_env() -> list[str]:
    count = _listen_fds()
    return [f"LISTEN_FDS={count}", "LISTEN_PID=1"] if count else []


def _write_pid_file(path: str, pid: int) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(str(pid))
    os.rename(tmp, path)


class _Undo:
    """What a failing create must take back, in reverse order."""

    def __init__(self, cdir: state.ContainerDir, owned: bool = True) -> None:
        self.cdir = cdir
        self.owned = owned  # create owns the directory and cgroup; exec only its processes
        self.cgroup: object | None = None
        self.pids: list[int] = []
        self.host_rootfs = ""  # no mount namespace: the rootfs whose new mounts are ours
        self.host_before: set[int] = set()

    def run(self) -> None:
        for pid in reversed(self.pids):
            _kill_and_reap(pid)
        if not self.owned:
            return
        if self.host_rootfs:
            from porter_runtime.hostmounts import detach_new

            try:
                detach_new(self.host_rootfs, self.host_before)
            except Exception as exc:  # the original error matters more
                _warn(f"unmounting {self.host_rootfs}: {exc}")
        if self.cgroup is not None:
            try:
                self.cgroup.destroy()
            except Exception as exc:  # the original error matters more
                _warn(f"removing cgroup {getattr(self.cgroup, 'path', '')}: {exc}")
        self.cdir.remove()


def _kill_and_reap(pid: int, timeout: float = 10.0) -> None:
    try:  # noqa: SIM105 (contextlib costs start-up time)
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    _wait_gone(pid, None, timeout)
    try:  # noqa: SIM105 (contextlib costs start-up time)
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: its parent reaps it
        pass


def _wait_gone(pid: int, start_time: int | None, timeout: float) -> bool:
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


def _launch(spec: object, saved: dict, undo: _Undo) -> None:
    """Fork stage A and drive it (and then B) until B is ready (create) or has exec'd."""
    from porter_runtime import sync
    from porter_runtime.init import child_main, preload

    preload(spec)
    parent, child = sync.pair()
    pid = os.fork()
    if pid == 0:
        parent.close()
        child_main(spec, child)
    child.close()
    undo.pids.append(pid)
    try:
        _drive(spec, saved, undo, parent, pid)
    except BaseException:
        # kill the stages before their channel closes: a stage that saw it close would
        # report a second error of its own on stderr
        for stage in reversed(undo.pids):
            _kill_and_reap(stage)
        undo.pids.clear()
        raise
    finally:
        parent.close()


def _drive(spec: object, saved: dict, undo: _Undo, chan: sync.Channel, stage_a: int) -> None:
    config = spec.config
    if undo.cgroup is not None:
        _join_cgroup(spec, saved, undo, stage_a)
    chan.send("go")
    while True:
        message = chan.recv()
        if message is None:
            if spec.exec_mode and saved.get("pid"):
                return  # every descriptor closed on execve: the process runs
            raise ContainerSetupError("container init exited during setup")
        kind = message["type"]
        if kind == "usermap":
            _write_id_maps(stage_a, config.get("linux") or {})
            chan.send("usermap-done")
        elif kind == "pid":
            saved["pid"] = message["pid"]
            undo.pids.append(message["pid"])
            os.waitpid(stage_a, 0)
            undo.pids.remove(stage_a)
        elif kind == "mounted":
            state_json = hook_state(saved, "creating")
            hooks = config.get("hooks") or {}
            for name in _CREATE_HOOKS:
                run_hooks(name, hooks.get(name), state_json)
            chan.send("resume", state=state_json)
        elif kind == "seccomp":
            _send_to_agent(spec, saved, chan)
        elif kind == "ready":
            return


def _send_to_agent(spec: object, saved: dict, chan: sync.Channel) -> None:
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


def _join_cgroup(spec: object, saved: dict, undo: _Undo, pid: int) -> None:
    """Move stage A into the container's cgroup and apply linux.resources.

    An unprivileged runtime (rootless) may not be allowed to create the cgroup at all. As
    runc does, the container then runs without one, unless the config asked for resources:
    those cannot be honoured, which is an error."""
    config = spec.config
    resources = (config.get("linux") or {}).get("resources")
    try:
        undo.cgroup.apply(pid)
        usable = getattr(undo.cgroup, "dirs", None) != {}  # v1 drops what it may not create
    except Exception as exc:
        if os.geteuid() == 0 or getattr(exc.__cause__, "errno", 0) not in (1, 13, 30):
            raise  # only EPERM, EACCES, EROFS mean "not allowed"
        usable = False
    if usable:
        if resources and not spec.exec_mode:
            undo.cgroup.set(with_default_devices(resources, config))
        return
    if resources and not spec.exec_mode:
        from porter_runtime.errors import ConfigError

        raise ConfigError(
            "linux.resources",
            f"cannot be applied: uid {os.geteuid()} may not create cgroup "
            f"{undo.cgroup.path} (leave resources out, or delegate a cgroup to this user)",
        )
    if not spec.exec_mode:
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
    from porter_runtime.namespaces import id_map_text

    if os.geteuid() != 0:
        with open(f"/proc/{pid}/setgroups", "w") as f:
            f.write("deny")
    for name, key in (("uid_map", "uidMappings"), ("gid_map", "gidMappings")):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(id_map_text(linux.get(key) or []))


def hook_state(saved: dict, status: str) -> str:
    return jsonio.dumps(state.public_state(saved, status))


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


def start(root: str, container_id: str) -> dict:
    """Let the created init exec the user process; poststart hooks follow."""
    cdir, saved, _, current = open_container(root, container_id)
    try:
        if current != "created":
            raise WrongStateError(container_id, current, "start", "created")
        config = saved.get("config") or {}
        if config.get("process") is None:
            from porter_runtime.errors import ConfigError

            raise ConfigError(
                f"cannot start container {container_id!r}",
                "its config.json has no process to run",
            )
        _open_fifo(cdir, saved)
        run_warning(
            "poststart",
            (config.get("hooks") or {}).get("poststart"),
            hook_state(saved, "running"),
            _warn,
        )
        return saved
    finally:
        cdir.unlock()


def _open_fifo(cdir: state.ContainerDir, saved: dict, timeout: float = 30.0) -> None:
    import select

    fd = os.open(cdir.fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        deadline = time.monotonic() + timeout
        while not poller.poll(100):
            if state.process_start_time(saved["pid"]) != saved["startTime"]:
                raise ContainerSetupError(f"container {saved['id']!r}: init exited before start")
            if time.monotonic() > deadline:
                raise ContainerSetupError(f"container {saved['id']!r}: init did not start")
        if os.read(fd, 1) != b"0":
            raise ContainerSetupError(f"container {saved['id']!r}: init exited before start")
    finally:
        os.close(fd)
        try:  # noqa: SIM105 (contextlib costs start-up time)
            os.unlink(cdir.fifo)
        except FileNotFoundError:
            pass


def kill(root: str, container_id: str, signal: int, all_processes: bool = False) -> None:
    cdir, saved, cgroup, current = open_container(root, container_id)
    try:
        if current == "stopped":
            raise WrongStateError(container_id, current, "kill", "created or running")
        targets = container_pids(saved, cgroup) if all_processes else [saved["pid"]]
        for pid in targets:
            try:  # noqa: SIM105 (contextlib costs start-up time)
                os.kill(pid, signal)
            except ProcessLookupError:
                pass
    finally:
        cdir.unlock()


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


def delete(root: str, container_id: str, force: bool = False) -> None:
    """Remove a stopped container (with --force, kill it first); poststop hooks run."""
    cdir = state.ContainerDir(root, container_id)
    try:
        cdir_, saved, cgroup, current = open_container(root, container_id)
    except ContainerNotFoundError:
        if force and os.path.isdir(cdir.path):  # a create that died half-way
            cdir.remove()
            return
        raise
    cdir = cdir_
    try:
        if current != "stopped":
            if not force:
                raise WrongStateError(
                    container_id, current, "delete", "stopped (use --force to kill it first)"
                )
            _stop_all(saved, cgroup)
    except BaseException:
        cdir.unlock()
        raise
    try:
        config = saved.get("config") or {}
        run_warning(
            "poststop",
            (config.get("hooks") or {}).get("poststop"),
            hook_state(saved, "stopped"),
            _warn,
        )
        if saved.get("hostMount"):
            _unmount_rootfs(saved)
        if cgroup is not None:
            cgroup.destroy()
    finally:
        cdir.remove()


def _unmount_rootfs(saved: dict) -> None:
    """A container without a mount namespace: detach the rootfs bind holding its mounts."""
    from porter_runtime.hostmounts import detach

    if not detach(saved["rootfs"], saved["hostMount"]):
        _warn(f"{saved['rootfs']}: not unmounted, another mount covers the container's")


def _stop_all(saved: dict, cgroup: object | None) -> None:
    if cgroup is not None and cgroup.state() == "paused":
        cgroup.thaw()
    pids = container_pids(saved, cgroup) or [saved["pid"]]
    for pid in pids:
        try:  # noqa: SIM105 (contextlib costs start-up time)
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    if not _wait_gone(saved["pid"], saved.get("startTime"), 10.0):
        raise ContainerSetupError(f"container {saved['id']!r} did not die after SIGKILL")
    try:  # noqa: SIM105 (contextlib costs start-up time)
        os.waitpid(saved["pid"], os.WNOHANG)
    except ChildProcessError:
        pass
