"""start, kill and delete: the runtime-spec operations on a container that create made.

Each checks the state it requires and raises WrongStateError otherwise. delete tears down
what create set up: the processes (with --force), the poststop hooks, the rootfs mounts of a
container without a mount namespace, the cgroup and the state directory.
"""

from __future__ import annotations

import os
import time

from porter_runtime import state
from porter_runtime.container import container_pids, open_container, wait_gone
from porter_runtime.errors import ContainerNotFoundError, ContainerSetupError, WrongStateError
from porter_runtime.log import warning


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
        _run_warning("poststart", saved, "running")
        return saved
    finally:
        cdir.unlock()


def _run_warning(kind: str, saved: dict, status: str) -> None:
    """The container's poststart or poststop hooks, failures as warnings; the hooks module
    and the state they read are only needed where some are configured."""
    hooks = ((saved.get("config") or {}).get("hooks") or {}).get(kind)
    if hooks:
        from porter_runtime.hooks import hook_state, run_warning

        run_warning(kind, hooks, hook_state(saved, status), warning)


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


def delete(root: str, container_id: str, force: bool = False) -> None:
    """Remove a stopped container (with --force, kill it first); poststop hooks run."""
    try:
        cdir, saved, cgroup, current = open_container(root, container_id)
    except ContainerNotFoundError:
        leftover = state.ContainerDir(root, container_id)
        if force and os.path.isdir(leftover.path):  # a create that died half-way
            leftover.remove()
            return
        raise
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
        _run_warning("poststop", saved, "stopped")
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
        warning(f"{saved['rootfs']}: not unmounted, another mount covers the container's")


def _stop_all(saved: dict, cgroup: object | None) -> None:
    if cgroup is not None and cgroup.state() == "paused":
        cgroup.thaw()
    pids = container_pids(saved, cgroup) or [saved["pid"]]
    for pid in pids:
        try:  # noqa: SIM105 (contextlib costs start-up time)
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    if not wait_gone(saved["pid"], saved.get("startTime"), 10.0):
        raise ContainerSetupError(f"container {saved['id']!r} did not die after SIGKILL")
    try:  # noqa: SIM105 (contextlib costs start-up time)
        os.waitpid(saved["pid"], os.WNOHANG)
    except ChildProcessError:
        pass
