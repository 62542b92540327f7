"""Removing a container: killed first when forced, its runtime state, record, network
endpoints, log pump and folders gone, and its anonymous volumes too when asked (`rm -v`)."""

from __future__ import annotations

import contextlib
import shutil
from typing import TYPE_CHECKING

from porterd.containers.runtime import RuntimeFailed
from porterd.containers.status import Status
from porterd.containers.stopping import kill_and_reap
from porterd.errors import Conflict

if TYPE_CHECKING:
    from porterd.containers.record import Container
    from porterd.containers.service import ContainerService


def remove(service: ContainerService, ref: str, force: bool = False, volumes: bool = False) -> None:
    container = service.get(ref)
    with container.lock:
        status = container.state.status
        if status is Status.REMOVING:
            raise Conflict(f"removal of container {container.id} is already in progress")
        if not status.can_remove(force):
            raise Conflict(
                f"You cannot remove a {status.value} container {container.id}. Stop the"
                " container before attempting removal or force remove"
            )
        service.monitor.cancel_restart(container)
        container.manually_stopped = True
    if container.state.status.is_running():
        kill_and_reap(service, container)
        if not service.has(container.id):  # its exit's handling removed it (run --rm)
            return
    with container.lock:
        container.state.status = Status.REMOVING
        service.execs.forget(container.id)
        paths = service.paths(container)
        service.release_rootfs(paths)
        runtime = service.runtime_of(container)
        if runtime.holds(container.id):  # the exit's handling deleted it already
            with contextlib.suppress(RuntimeFailed):
                runtime.delete(container.id, force=True)
        service.store.remove(container.id)
        if service.networks is not None:
            service.networks.release(container.id)
        pump = service.forget(container.id)
        if pump is not None:
            pump.close()
        shutil.rmtree(paths.data, ignore_errors=True)
        shutil.rmtree(paths.run, ignore_errors=True)
        service.conmon.exit_file(container.id).unlink(missing_ok=True)
        if volumes and service.volumes is not None:
            _remove_anonymous_volumes(service, container)
    service.images.release(container.id)
    service.notify()
    service.publish(container, "destroy")


def _remove_anonymous_volumes(service: ContainerService, container: Container) -> None:
    remove = getattr(service.volumes, "remove", None)
    for point in container.mounts:
        name = point.get("Name") or ""
        if point["Type"] == "volume" and len(name) == 64 and remove is not None:
            try:
                remove(name)
            except Exception:
                continue
