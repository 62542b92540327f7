"""create: set a container up from its bundle and leave its init waiting on the exec fifo.

In order: load and check the config, make the container's directory, exec fifo and cgroup,
write down the state to save, fork and drive the init's stages (`porter_runtime.launch`),
then save the state. A step that fails undoes every one before it, so a failed create leaves
no process, cgroup, mount or state directory behind.
"""

from __future__ import annotations

import os
import time

from porter_runtime import log, state
from porter_runtime.launch import (
    Undo,
    compile_seccomp,
    run_stages,
    session_keyring_name,
    write_pid_file,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # imported where used; named here for the annotations only
    from porter_runtime.init import InitSpec
    from porter_runtime.namespaces import NamespacePlan


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
    cdir = state.ContainerDir(root, container_id)
    bundle = os.path.abspath(bundle)
    config, rootfs_path, plan = _checked_config(bundle, console_socket)
    seccomp = compile_seccomp(config)
    # not a child subreaper here: a created init outlives the runtime anyway (`run`, which
    # waits for the init as its child, makes itself the subreaper before calling create)
    cdir.create()
    undo = Undo(cdir)
    try:
        if "mount" not in plan.types:
            _note_host_mounts(undo, rootfs_path)
        _make_exec_fifo(cdir.fifo)
        undo.cgroup, host_mounts = cgroup_manager(config, container_id)
        saved = _initial_state(
            container_id, bundle, rootfs_path, config, undo.cgroup, no_pivot, no_new_keyring
        )
        spec = _init_spec(saved, plan, seccomp, preserve_fds, cdir.lock_fd)
        spec.host_mounts = host_mounts
        _start_init(spec, saved, undo, cdir.path, console_socket)
        _save_created(cdir, saved, undo, pid_file)
    except BaseException:
        undo.run()
        raise
    cdir.unlock()
    log.debug(f"container {container_id}: init {saved['pid']} waits for start")
    return Created(cdir, saved, undo.cgroup)


def _checked_config(bundle: str, console_socket: str | None) -> tuple[dict, str, NamespacePlan]:
    """The bundle's config (validated), its rootfs path and its namespace plan, every check
    passed before anything is set up."""
    from porter_runtime import config as configs
    from porter_runtime.checks import check_config
    from porter_runtime.namespaces import NamespacePlan

    config = configs.load(bundle)
    rootfs_path = configs.rootfs_path(bundle, config)
    plan = NamespacePlan((config.get("linux") or {}).get("namespaces") or [])
    plan.check_paths()
    check_config(config, plan, console_socket)
    return config, rootfs_path, plan


def _note_host_mounts(undo: Undo, rootfs_path: str) -> None:
    """No mount namespace: the container's mounts land in ours, so note what is there now."""
    from porter_runtime import hostmounts

    undo.host_rootfs = rootfs_path
    undo.host_before = hostmounts.current_ids(rootfs_path)


def _make_exec_fifo(path: str) -> None:
    os.mkfifo(path, 0o622)
    os.chmod(path, 0o622)  # past the umask: the init may run as any user


def cgroup_manager(config: dict, container_id: str) -> tuple[object | None, list | None]:
    """The cgroup manager for this container, and the mount table it was built from (which
    the init reuses: see rootfs.MountContext); None, None where the cgroups package is
    absent."""
    try:
        from porter_runtime.cgroups import cgroup_manager as make
        from porter_runtime.cgroups.paths import visible_mounts
    except ImportError:
        return None, None
    mounts = visible_mounts()
    return make(config.get("linux") or {}, container_id, os.geteuid() != 0, mounts), mounts


def _initial_state(
    container_id: str,
    bundle: str,
    rootfs_path: str,
    config: dict,
    cgroup: object | None,
    no_pivot: bool,
    no_new_keyring: bool,
) -> dict:
    """The state to save, as it stands before the init has a pid."""
    return {
        "id": container_id,
        "pid": 0,
        "startTime": None,
        "bundle": bundle,
        "rootfs": rootfs_path,
        "created": _timestamp(),
        "annotations": config.get("annotations") or {},
        "config": config,
        "cgroupPath": getattr(cgroup, "path", None),
        "noPivot": no_pivot,
        "noNewKeyring": no_new_keyring,
    }


def _init_spec(
    saved: dict, plan: NamespacePlan, seccomp: object | None, preserve_fds: int, lock_fd: int
) -> InitSpec:
    """What the init's stages need, taken from the state about to be saved."""
    from porter_runtime.init import InitSpec

    config = saved["config"]
    spec = InitSpec(
        config,
        config.get("process"),  # None: the init waits, start fails (runtime-spec)
        bundle=saved["bundle"],
        rootfs_path=saved["rootfs"],
        new=plan.new,
        join=plan.join,
        no_pivot=saved["noPivot"],
        preserve_fds=preserve_fds + _listen_fds(),
        seccomp=seccomp,
        extra_env=_listen_env(),
    )
    spec.close_fds.append(lock_fd)
    spec.keyring = "" if saved["noNewKeyring"] else session_keyring_name(saved["id"])
    return spec


def _start_init(
    spec: InitSpec, saved: dict, undo: Undo, state_dir: str, console_socket: str | None
) -> None:
    """Fork and drive the init, handing it the state directory and the console; the
    runtime's copies of those descriptors are closed whatever happens."""
    spec.state_dir_fd = os.open(state_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if console_socket:
            from porter_runtime.console import connect

            spec.console_fd = connect(console_socket)
        run_stages(spec, saved, undo)
    finally:
        for fd in (spec.state_dir_fd, spec.console_fd):
            if fd >= 0:
                os.close(fd)


def _save_created(cdir: state.ContainerDir, saved: dict, undo: Undo, pid_file: str | None) -> None:
    """Save the state with the init's start time (which tells it from a later process with
    its pid) and the mounts it left on the host, then write the pid file."""
    saved["startTime"] = state.process_start_time(saved["pid"])
    if undo.cgroup is not None:
        saved["cgroupDirs"] = undo.cgroup.directories()
    if undo.host_rootfs:
        from porter_runtime import hostmounts

        saved["hostMount"] = hostmounts.new_since(undo.host_rootfs, undo.host_before)
    cdir.save(saved)
    if pid_file:
        write_pid_file(pid_file, saved["pid"])


def _timestamp() -> str:
    now = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}Z"


def _listen_fds() -> int:
    """Socket activation (LISTEN_FDS) passes its descriptors on, as runc does."""
    value = os.environ.get("LISTEN_FDS", "")
    return int(value) if value.isdigit() else 0


def _listen_env() -> list[str]:
    count = _listen_fds()
    return [f"LISTEN_FDS={count}", "LISTEN_PID=1"] if count else []
