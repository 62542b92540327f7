"""Operations on a running container's cgroup: pause, resume, update, events."""

from __future__ import annotations

import sys
import time

from porter_runtime import jsonio
from porter_runtime.container import open_container
from porter_runtime.errors import CgroupsUnavailableError, WrongStateError


def _require_cgroup(container_id: str, cgroup: object | None, what: str) -> object:
    if cgroup is None:
        raise CgroupsUnavailableError(f"cannot {what} container {container_id!r}: it has no cgroup")
    return cgroup


def pause(root: str, container_id: str) -> None:
    cdir, _, cgroup, current = open_container(root, container_id)
    try:
        if current != "running":
            raise WrongStateError(container_id, current, "pause", "running")
        _require_cgroup(container_id, cgroup, "pause").freeze()
    finally:
        cdir.unlock()


def resume(root: str, container_id: str) -> None:
    cdir, _, cgroup, current = open_container(root, container_id)
    try:
        if current != "paused":
            raise WrongStateError(container_id, current, "resume", "paused")
        _require_cgroup(container_id, cgroup, "resume").thaw()
    finally:
        cdir.unlock()


def update(root: str, container_id: str, resources: dict) -> None:
    """Apply the new limits and remember them with the container's config."""
    cdir, saved, cgroup, current = open_container(root, container_id)
    try:
        if current == "stopped":
            raise WrongStateError(container_id, current, "update", "created, running or paused")
        _require_cgroup(container_id, cgroup, "update").set(resources)
        linux = saved.setdefault("config", {}).setdefault("linux", {})
        merged = dict(linux.get("resources") or {})
        for key, value in resources.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        linux["resources"] = merged
        cdir.save(saved)
    finally:
        cdir.unlock()


def events(root: str, container_id: str, once: bool, interval: float) -> None:
    """runc's stats events: {"type": "stats", "id": ..., "data": {...}} per line."""
    while True:
        _, _, cgroup, current = open_container(root, container_id, lock=False)
        if current == "stopped":
            if once:
                raise WrongStateError(container_id, current, "read statistics of", "running")
            return
        data = _require_cgroup(container_id, cgroup, "read statistics of").stats()
        sys.stdout.write(jsonio.dumps({"type": "stats", "id": container_id, "data": data}) + "\n")
        sys.stdout.flush()
        if once:
            return
        time.sleep(interval)
