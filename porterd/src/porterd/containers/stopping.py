"""Stopping a container and signalling it: stop (the stop signal, then SIGKILL after the
timeout), kill, restart, pause and unpause, each under the container's lock; waiting for the
exit is the service's (`ContainerService.wait_exit`)."""

from __future__ import annotations

import contextlib
import os
import signal as signals
from typing import TYPE_CHECKING

from porterd.containers.conmon import pid_alive
from porterd.containers.runtime import RuntimeFailed
from porterd.containers.status import Status
from porterd.errors import Conflict, InvalidParameter, NotModified

if TYPE_CHECKING:
    from porterd.containers.record import Container
    from porterd.containers.service import ContainerService

STOP_TIMEOUT = 10
KILL_GRACE = 10.0


def stop(
    service: ContainerService, ref: str, timeout: int | None = None, signal: str | None = None
) -> None:
    container = service.get(ref)
    with container.lock:
        if _cancelled_restart(service, container):
            return
        if not container.state.status.can_stop():
            raise NotModified(f"container {container.id} is not running")
        container.manually_stopped = True
        service.save(container)
        generation = service.monitor.exits(container)
        wait = timeout if timeout is not None else container.config.get("StopTimeout")
        wait = STOP_TIMEOUT if wait is None else int(wait)
        stop_signal = signal or container.config.get("StopSignal") or "SIGTERM"
        send_signal(service, container, stop_signal if wait != 0 else "SIGKILL")
    if wait < 0:  # docker's -1: wait for the exit, however long it takes
        _ended(service, container, generation, None)
        return
    if _ended(service, container, generation, wait if wait > 0 else KILL_GRACE):
        return
    with container.lock:
        if container.state.status.can_kill():
            send_signal(service, container, "SIGKILL")
    if not _ended(service, container, generation, KILL_GRACE):  # as dockerd's Kill, then Stop
        raise Conflict(f"Cannot stop container: {ref}: Container {container.id} did not exit")


def _ended(
    service: ContainerService, container: Container, generation: int, timeout: float | None
) -> bool:
    """Whether the container's process ended within `timeout` (after `generation`; None
    waits without end), its exit recorded by this thread once conmon is gone (`Monitor.reap`)."""
    reaped = service.monitor.reap(container, timeout)
    return service.wait_exit(container, generation, KILL_GRACE if reaped else 0)


def kill(service: ContainerService, ref: str, signal: str = "SIGKILL") -> None:
    container = service.get(ref)
    number = parse_signal(signal)
    with container.lock:
        if _cancelled_restart(service, container):
            return
        if not container.state.status.can_kill():
            raise Conflict(f"Cannot kill container: {ref}: Container {container.id} is not running")
        if number == signals.SIGKILL:
            container.manually_stopped = True
            service.save(container)
        send_signal(service, container, str(number))
    service.publish(container, "kill", signal=str(number))


def _cancelled_restart(service: ContainerService, container: Container) -> bool:
    """Whether the container was waiting to be restarted: then stop and kill only cancel that."""
    if container.state.status is not Status.RESTARTING:
        return False
    service.monitor.cancel_restart(container)
    return True


def send_signal(service: ContainerService, container: Container, signal: str) -> None:
    if container.state.status is Status.PAUSED and parse_signal(signal) == signals.SIGKILL:
        with contextlib.suppress(RuntimeFailed):
            service.runtime_of(container).resume(container.id)
    try:
        service.runtime_of(container).kill(container.id, signal, all_processes=True)
    except RuntimeFailed:
        if container.state.pid and pid_alive(container.state.pid):
            os.kill(container.state.pid, parse_signal(signal))


def kill_and_reap(service: ContainerService, container: Container) -> None:
    """SIGKILL at once, as dockerd's `rm -f` does, and the exit recorded before returning."""
    with container.lock:
        generation = service.monitor.exits(container)
        status = container.state.status
        if status.can_kill() and (status is Status.PAUSED or not kill_init(container)):
            send_signal(service, container, "SIGKILL")
    if not _ended(service, container, generation, KILL_GRACE):
        raise Conflict(f"could not kill container {container.id}: it did not exit")


def kill_init(container: Container) -> bool:
    """SIGKILL the container's first process through a pidfd, with no runtime process (as
    dockerd's shim does): in a PID namespace of its own, the kernel then kills every other
    process in it. False, for the runtime's `kill --all` to do it, unless the pid is still
    conmon's child in a PID namespace other than porterd's."""
    pid, conmon_pid = container.state.pid, container.state.conmon_pid
    if pid <= 0 or conmon_pid <= 0:
        return False
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return False
    try:  # checked once the pidfd is open, which keeps naming this process if the pid is reused
        if _parent(pid) != conmon_pid or _same_pid_namespace(pid):
            return False
        signals.pidfd_send_signal(pidfd, signals.SIGKILL)
        return True
    except (OSError, ValueError, IndexError):  # gone meanwhile, or an unreadable stat
        return False
    finally:
        os.close(pidfd)


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        return int(stat.read().rsplit(b")", 1)[1].split()[1])


def _same_pid_namespace(pid: int) -> bool:
    return os.stat(f"/proc/{pid}/ns/pid").st_ino == os.stat("/proc/self/ns/pid").st_ino


def restart(service: ContainerService, ref: str, timeout: int | None = None) -> None:
    container = service.get(ref)
    if container.state.status.can_stop():
        with contextlib.suppress(NotModified):  # it ended meanwhile: only the start is left
            stop(service, ref, timeout)
    with container.lock:
        if container.state.status.can_start():
            container.manually_stopped = False
            service.start_locked(container)
    service.publish(container, "restart")


def pause(service: ContainerService, ref: str) -> None:
    _freeze(service, ref, paused=True)


def unpause(service: ContainerService, ref: str) -> None:
    _freeze(service, ref, paused=False)


def _freeze(service: ContainerService, ref: str, *, paused: bool) -> None:
    """Pause (freeze) a running container, or resume a paused one."""
    container = service.get(ref)
    with container.lock:
        status = container.state.status
        if paused and not status.can_pause():
            raise Conflict(
                f"Container {container.id} is not running"
                if not status.is_running()
                else f"Container {container.id} is already paused"
            )
        if not paused and not status.can_unpause():
            raise Conflict(f"Container {container.id} is not paused")
        runtime = service.runtime_of(container)
        runtime.pause(container.id) if paused else runtime.resume(container.id)
        container.state.status = Status.PAUSED if paused else Status.RUNNING
        service.save(container)
    service.publish(container, "pause" if paused else "unpause")


def parse_signal(signal: str | int) -> int:
    """A signal by number (`9`), name (`KILL`) or full name (`SIGKILL`)."""
    text = str(signal).strip().upper()
    if text.isdigit():
        number = int(text)
        if not 0 < number < signals.NSIG:
            raise InvalidParameter(f"Invalid signal: {signal}")
        return number
    name = text if text.startswith("SIG") else f"SIG{text}"
    try:
        return int(signals.Signals[name])
    except KeyError:
        raise InvalidParameter(f"Invalid signal: {signal}") from None
