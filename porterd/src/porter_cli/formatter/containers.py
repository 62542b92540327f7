"""`porter ps`'s output: the Engine API's container list as the rows of docker's container
table (its formatter/container.go), for porter_cli.container.ls under click and for
porter_cli.quick without it (so this module imports nothing of click, nor of its package)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from porter_cli.client.api import Client

DEFAULT = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
)
HEADERS = {
    "ID": "CONTAINER ID",
    "Image": "IMAGE",
    "Command": "COMMAND",
    "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED",
    "Status": "STATUS",
    "State": "STATE",
    "Ports": "PORTS",
    "Names": "NAMES",
    "Labels": "LABELS",
    "Size": "SIZE",
    "Mounts": "MOUNTS",
    "Networks": "NETWORKS",
}


def short_id(value: str, truncate: bool = True) -> str:
    value = value.removeprefix("sha256:")
    return value[:12] if truncate else value


def ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def ports(entries: list[dict[str, Any]] | None) -> str:
    shown = []
    for port in entries or []:
        private = f"{port.get('PrivatePort')}/{port.get('Type', 'tcp')}"
        if port.get("PublicPort"):
            shown.append(f"{port.get('IP') or '0.0.0.0'}:{port['PublicPort']}->{private}")
        else:
            shown.append(private)
    return ", ".join(shown)


def row(container: dict[str, Any], truncate: bool) -> dict[str, Any]:
    from porter_cli.formatter.units import created_at, human_size, since

    created = container.get("Created") or 0
    command = container.get("Command") or ""
    size = ""
    if container.get("SizeRw") is not None:
        rw, virtual = container.get("SizeRw") or 0, container.get("SizeRootFs") or 0
        size = f"{human_size(rw)} (virtual {human_size(virtual)})"
    labels = container.get("Labels") or {}
    networks = ((container.get("NetworkSettings") or {}).get("Networks")) or {}
    return {
        "ID": short_id(container.get("Id", ""), truncate),
        "Image": container.get("Image", ""),
        "Command": f'"{ellipsis(command, 20) if truncate else command}"',
        "CreatedAt": created_at(created) if created else "",
        "RunningFor": since(created) if created else "",
        "Status": container.get("Status", ""),
        "State": container.get("State", ""),
        "Ports": ports(container.get("Ports")),
        "Names": ",".join(name.lstrip("/") for name in container.get("Names") or []),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Size": size,
        "Mounts": ",".join(
            m.get("Name") or m.get("Source", "") for m in container.get("Mounts") or []
        ),
        "Networks": ",".join(sorted(networks)),
    }


def list_containers(
    client: Client,
    *,
    all_: bool = False,
    last: int = -1,
    latest: bool = False,
    size: bool = False,
    no_trunc: bool = False,
    filters: dict[str, list[str]] | None = None,
    format_: str | None = None,
    quiet: bool = False,
) -> None:
    """Print the containers as `porter ps` with these options does."""
    from porter_cli.formatter.output import echo_rows

    limit = 1 if latest else last
    params = {
        "all": all_ or None,
        "limit": limit if limit > 0 else None,
        "size": size or None,
        "filters": filters,
    }
    containers = client.get_json("/containers/json", params) or []
    rows = [row(container, not no_trunc) for container in containers]
    if quiet:
        format_ = "{{.ID}}"
    default = DEFAULT + ("\t{{.Size}}" if size else "")
    echo_rows(rows, format_, default, HEADERS)
