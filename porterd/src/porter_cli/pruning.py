"""The prune commands' shared steps: the confirmation prompt and the report of what went."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client, filters_param
from porter_cli.errors import ExitStatus

# what each prune endpoint answers with: (list of deleted things, its title)
DELETED = {
    "containers": ("ContainersDeleted", "Deleted Containers"),
    "images": ("ImagesDeleted", "Deleted Images"),
    "volumes": ("VolumesDeleted", "Deleted Volumes"),
}


def confirm(what: str, force: bool) -> None:
    if force:
        return
    click.echo(f"WARNING! This will remove {what}.")
    if not click.confirm("Are you sure you want to continue?", default=False):
        raise ExitStatus(1)


def prune(kind: str, filters: tuple[str, ...], extra: dict[str, list[str]] | None = None) -> int:
    """POST /KIND/prune; prints what was deleted and the space reclaimed; returns the bytes."""
    from porter_cli.formatter.units import human_size

    params = {**(filters_param(filters) or {}), **(extra or {})}
    report: dict[str, Any] = client().post_json(f"/{kind}/prune", {"filters": params or None}) or {}
    key, title = DELETED[kind]
    deleted = report.get(key) or []
    if deleted:
        click.echo(f"{title}:")
        for item in deleted:
            if isinstance(item, dict):
                for name, value in item.items():
                    click.echo(f"{name.lower()}: {value}")
            else:
                click.echo(item)
        click.echo()
    reclaimed = int(report.get("SpaceReclaimed") or 0)
    click.echo(f"Total reclaimed space: {human_size(reclaimed)}")
    return reclaimed
