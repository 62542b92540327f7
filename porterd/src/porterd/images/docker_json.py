"""Images in the Engine API's JSON shapes (ImageSummary, ImageInspect, HistoryResponseItem)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from porter_image.reference import parse_docker_reference

from porterd.images.records import StoredImage

_EMPTY_LAYER_HISTORY = "empty_layer"


def repo_tags(stored: StoredImage) -> list[str]:
    return [parse_docker_reference(n).familiar() for n in stored.names if "@" not in n]


def repo_digests(stored: StoredImage) -> list[str]:
    return [parse_docker_reference(n).familiar() for n in stored.names if "@" in n]


def unix_time(rfc3339: str) -> int:
    """The `created` of a config as seconds since the epoch (0 when absent or unreadable)."""
    if not rfc3339:
        return 0
    text = rfc3339.replace("Z", "+00:00")
    main, dot, rest = text.partition(".")
    if dot:  # Python reads at most microseconds: drop the fraction, keep the zone
        zone = next((i for i, c in enumerate(rest) if c in "+-"), len(rest))
        text = main + rest[zone:]
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except ValueError:
        return 0


def summary(stored: StoredImage, containers: int = -1) -> dict[str, Any]:
    """One item of `GET /images/json`."""
    config = stored.config.get("config") or {}
    return {
        "Id": stored.id,
        "ParentId": "",
        "RepoTags": repo_tags(stored),
        "RepoDigests": repo_digests(stored),
        "Created": unix_time(str(stored.config.get("created") or "")),
        "Size": stored.size,
        "SharedSize": -1,
        "VirtualSize": stored.size,
        "Labels": config.get("Labels") or {},
        "Containers": containers,
    }


def inspect(stored: StoredImage, lowerdirs: list[str]) -> dict[str, Any]:
    """`GET /images/{name}/json`."""
    config = stored.config
    return {
        "Id": stored.id,
        "RepoTags": repo_tags(stored),
        "RepoDigests": repo_digests(stored),
        "Parent": "",
        "Comment": _comment(config),
        "Created": config.get("created") or "",
        "Container": "",
        "ContainerConfig": {},
        "DockerVersion": "",
        "Author": config.get("author") or "",
        "Config": execution_config(config),
        "Architecture": config.get("architecture") or "",
        "Variant": config.get("variant") or "",
        "Os": config.get("os") or "",
        "OsVersion": config.get("os.version") or "",
        "Size": stored.size,
        "VirtualSize": stored.size,
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {"LowerDir": ":".join(lowerdirs)} if lowerdirs else {},
        },
        "RootFS": {"Type": "layers", "Layers": [str(d) for d in stored.diff_ids]},
        "Metadata": {"LastTagTime": stored.tagged_at or "0001-01-01T00:00:00Z"},
    }


_CONFIG_DEFAULTS: dict[str, Any] = {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": False,
    "AttachStdout": False,
    "AttachStderr": False,
    "ExposedPorts": None,
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "Env": None,
    "Cmd": None,
    "Image": "",
    "Volumes": None,
    "WorkingDir": "",
    "Entrypoint": None,
    "OnBuild": None,
    "Labels": None,
}


def execution_config(config: Any) -> dict[str, Any]:
    """The image's `config` as dockerd's container Config shows it: the fields dockerd always
    has, then every field the image sets (Healthcheck, Shell, StopSignal ... included)."""
    source = config.get("config") or {}
    return {**_CONFIG_DEFAULTS, **{k: v for k, v in source.items() if v is not None}}


def history(stored: StoredImage, layer_sizes: list[int]) -> list[dict[str, Any]]:
    """`GET /images/{name}/history`: newest first; layers without an entry get none."""
    sizes = iter(layer_sizes)
    items = []
    for entry in stored.config.get("history") or []:
        empty = bool(entry.get(_EMPTY_LAYER_HISTORY))
        items.append(
            {
                "Id": "<missing>",
                "Created": unix_time(entry.get("created") or ""),
                "CreatedBy": entry.get("created_by") or "",
                "Tags": None,
                "Size": 0 if empty else next(sizes, 0),
                "Comment": entry.get("comment") or "",
            }
        )
    if not items:
        items = [{"Id": "", "Created": 0, "CreatedBy": "", "Tags": None, "Size": 0, "Comment": ""}]
    items.reverse()
    items[0]["Id"] = stored.id
    items[0]["Tags"] = repo_tags(stored) or None
    return items


def _comment(config: Any) -> str:
    entries = config.get("history") or []
    return (entries[-1].get("comment") or "") if entries else ""
