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
    _freeze_or_thaw(root, container_id, "pause", "running", freeze=True)


def resume(root: str, container_id: str) -> None:
    _freeze_or_thaw(root, container_id, "resume", "paused", freeze=False)


def _freeze_or_thaw(root: str, container_id: str, verb: str, needed: str, freeze: bool) -> None:
    """Pause and resume differ only in the state they need and the cgroup call they make."""
    cdir, _, cgroup, current = open_container(root, container_id)
    try:
        if current != needed:
            raise WrongStateError(container_id, current, verb, needed)
        cgroup = _require_cgroup(container_id, cgroup, verb)
        if freeze:
            cgroup.freeze()
        else:
            cgroup.thaw()
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
    """runc's events, one JSON object per line: {"type": "stats", "id", "data"} every
    `interval` (once with --stats), and {"type": "oom", "id"} each time the container's
    memory cgroup runs out of memory, until the container stops."""
    _, _, cgroup, current = open_container(root, container_id, lock=False)
    if current == "stopped":
        if once:
            raise WrongStateError(container_id, current, "read statistics of", "running")
        return
    cgroup = _require_cgroup(container_id, cgroup, "read statistics of")
    if once:
        _emit(container_id, "stats", cgroup.stats())
        return
    from porter_runtime.cgroups.oom import watch

    watcher = watch(cgroup)
    try:
        _stream(root, container_id, cgroup, watcher, interval)
    finally:
        if watcher is not None:
            watcher.close()


def _stream(root: str, container_id: str, cgroup: object, watcher: object, interval: float) -> None:
    next_stats = time.monotonic()
    while True:
        _, _, _, current = open_container(root, container_id, lock=False)
        if current == "stopped":
            for _ in range(watcher.pending() if watcher is not None else 0):
                _emit(container_id, "oom")  # the OOM that ended it, signalled just before
            return
        now = time.monotonic()
        if now >= next_stats:
            _emit(container_id, "stats", cgroup.stats())
            next_stats = now + interval
        tick = min(next_stats - now, 0.25)  # also how soon a stopped container is noticed
        if watcher is None:
            time.sleep(max(tick, 0))
            continue
        for _ in range(watcher.wait(tick)):
            _emit(container_id, "oom")


def _emit(container_id: str, kind: str, data: dict | None = None) -> None:
    event: dict = {"type": kind, "id": container_id}
    if data is not None:
        event["data"] = data
    sys.stdout.write(jsonio.dumps(event) + "\n")
    sys.stdout.flush()
