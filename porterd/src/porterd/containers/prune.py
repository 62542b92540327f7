"""Removing every stopped container at once (`docker container prune`), with dockerd's
`until` and `label` filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from porterd.clock import time_ns
from porterd.containers.record import Container
from porterd.disk_usage import tree_size
from porterd.errors import Conflict, NotFound

if TYPE_CHECKING:
    from porterd.containers.service import ContainerService


def prune_containers(
    service: ContainerService, until_ns: int | None, labels: list[str] | None
) -> dict[str, Any]:
    """`POST /containers/prune`: the ids removed and the bytes their upper layers held."""
    deleted, reclaimed = [], 0
    for container in service.all():
        if container.state.status.is_running():
            continue
        if until_ns is not None and _created_ns(container) >= until_ns:
            continue
        if labels and not _labels_match(container, labels):
            continue
        reclaimed += tree_size(service.paths(container).upper)
        try:
            service.remove(container.id)
        except (Conflict, NotFound):
            continue
        deleted.append(container.id)
    return {"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed}


def _created_ns(container: Container) -> int:
    return time_ns(container.created)


def _labels_match(container: Container, labels: list[str]) -> bool:
    own = container.config.get("Labels") or {}
    for label in labels:
        key, sep, value = label.partition("=")
        if key not in own or (sep and own[key] != value):
            return False
    return True
