"""porter volume ls."""

from __future__ import annotations

import click

from porter_cli.command import client, filter_option, filters_param, format_option, quiet_option

DEFAULT = "table {{.Driver}}\t{{.Name}}"
HEADERS = {
    "Driver": "DRIVER",
    "Name": "VOLUME NAME",
    "Mountpoint": "MOUNTPOINT",
    "Scope": "SCOPE",
    "Labels": "LABELS",
    "CreatedAt": "CREATED AT",
}


@click.command("ls")
@filter_option()
@format_option()
@quiet_option("volume names")
def command(filters: tuple[str, ...], format_: str | None, quiet: bool) -> None:
    """List volumes."""
    from porter_cli.formatter.output import echo_rows

    result = client().get_json("/volumes", {"filters": filters_param(filters)}) or {}
    for warning in result.get("Warnings") or []:
        click.echo(f"WARNING: {warning}", err=True)
    rows = [
        {
            "Driver": volume.get("Driver", ""),
            "Name": volume.get("Name", ""),
            "Mountpoint": volume.get("Mountpoint", ""),
            "Scope": volume.get("Scope", ""),
            "Labels": ",".join(f"{k}={v}" for k, v in sorted((volume.get("Labels") or {}).items())),
            "CreatedAt": volume.get("CreatedAt", ""),
        }
        for volume in sorted(result.get("Volumes") or [], key=lambda v: v.get("Name", ""))
    ]
    echo_rows(rows, "{{.Name}}" if quiet else format_, DEFAULT, HEADERS)
