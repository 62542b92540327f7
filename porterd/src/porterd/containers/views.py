"""Containers in the Engine API's JSON shapes: `GET /containers/{id}/json` and
`GET /containers/json`, with dockerd's field names and its human `Status` line."""

from __future__ import annotations

import time
from typing import Any

from porterd.clock import time_ns
from porterd.containers.record import Container, ContainerPaths
from porterd.containers.status import Status


def inspect(container: Container, paths: ContainerPaths) -> dict[str, Any]:
    with container.lock:
        state = container.state
        args = container.args
        return {
            "Id": container.id,
            "Created": container.created,
            "Path": args[0] if args else "",
            "Args": args[1:],
            "State": {
                "Status": state.status.value,
                "Running": state.status.is_running(),
                "Paused": state.status is Status.PAUSED,
                "Restarting": state.status is Status.RESTARTING,
                "OOMKilled": state.oom_killed,
                "Dead": state.status is Status.DEAD,
                "Pid": state.pid,
                "ExitCode": state.exit_code,
                "Error": state.error,
                "StartedAt": state.started_at,
                "FinishedAt": state.finished_at,
            },
            "Image": container.image_id,
            "ResolvConfPath": str(paths.resolv_conf),
            "HostnamePath": str(paths.hostname),
            "HostsPath": str(paths.hosts),
            "LogPath": str(paths.json_log),
            "Name": container.name,
            "RestartCount": container.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": None,
            "HostConfig": container.host_config,
            "GraphDriver": {
                "Name": "overlay2",
                "Data": {
                    "LowerDir": ":".join(container.lowerdirs),
                    "UpperDir": str(paths.upper),
                    "WorkDir": str(paths.work),
                    "MergedDir": str(paths.rootfs),
                },
            },
            "Mounts": container.mounts,
            "Config": {**container.config, "Image": container.image},
            "NetworkSettings": network_settings(container),
        }


def network_settings(container: Container) -> dict[str, Any]:
    mode = container.host_config.get("NetworkMode") or "default"
    return {
        "Bridge": "",
        "SandboxID": "",
        "Ports": {},
        "SandboxKey": "",
        "Networks": {mode: {"NetworkID": "", "EndpointID": "", "IPAddress": "", "Gateway": ""}},
    }


def summary(container: Container, now: float | None = None) -> dict[str, Any]:
    """One entry of `GET /containers/json`."""
    with container.lock:
        args = container.args
        return {
            "Id": container.id,
            "Names": [container.name],
            "Image": container.image,
            "ImageID": container.image_id,
            "Command": " ".join(args),
            "Created": time_ns(container.created) // 1_000_000_000,
            "Ports": [],
            "Labels": container.config.get("Labels") or {},
            "State": container.state.status.value,
            "Status": status_line(container, now or time.time()),
            "HostConfig": {"NetworkMode": container.host_config.get("NetworkMode") or "default"},
            "NetworkSettings": {"Networks": network_settings(container)["Networks"]},
            "Mounts": container.mounts,
        }


def status_line(container: Container, now: float) -> str:
    """dockerd's `Status`: "Up 3 minutes", "Exited (0) 2 seconds ago", "Created"..."""
    state = container.state
    if state.status is Status.CREATED:
        return "Created"
    if state.status is Status.REMOVING:
        return "Removal In Progress"
    if state.status is Status.DEAD:
        return "Dead"
    if state.status is Status.RESTARTING:
        return f"Restarting ({state.exit_code}) {_ago(state.finished_at, now)} ago"
    if state.status.is_running():
        up = f"Up {_duration(now - time_ns(state.started_at) / 1e9)}"
        return f"{up} (Paused)" if state.status is Status.PAUSED else up
    return f"Exited ({state.exit_code}) {_ago(state.finished_at, now)} ago"


def _ago(moment: str, now: float) -> str:
    return _duration(now - time_ns(moment) / 1e9)


def _duration(seconds: float) -> str:
    """docker's units.HumanDuration."""
    if seconds < 1:
        return "Less than a second"
    if seconds < 2:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"
