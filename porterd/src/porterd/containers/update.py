"""`POST /containers/{id}/update`: new limits and restart policy, checked as at create and
sent to the runtime when the container is running."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from porterd.containers.create import checked_host_config
from porterd.containers.restart import RestartPolicy
from porterd.errors import Conflict, InvalidParameter

if TYPE_CHECKING:
    from porterd.containers.service import ContainerService


def update(service: ContainerService, ref: str, body: dict[str, Any]) -> list[str]:
    container = service.get(ref)
    if not isinstance(body, dict):
        raise InvalidParameter("the body must be a JSON object")
    with container.lock:
        if not container.state.status.can_update():
            raise Conflict(f"cannot update container {container.id}: it is being removed")
        host = dict(container.host_config)
        for key in (
            "Memory",
            "MemoryReservation",
            "MemorySwap",
            "NanoCpus",
            "CpuShares",
            "CpuQuota",
            "CpuPeriod",
            "CpusetCpus",
            "PidsLimit",
            "RestartPolicy",
        ):
            if key in body:
                host[key] = body[key]
        host = checked_host_config(host)
        if host.get("AutoRemove") and not RestartPolicy.from_host_config(host).is_none():
            raise InvalidParameter(
                "Restart policy cannot be updated because AutoRemove is enabled for the container"
            )
        if container.state.status.is_running():
            from porterd.containers.spec import resources_for

            service.runtime_of(container).update(container.id, resources_for(host))
        container.host_config = host
        service.save(container)
    service.publish(container, "update")
    return []
