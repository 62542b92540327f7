"""porter network ls."""

from __future__ import annotations

import click

from porter_cli.command import client, filter_option, filters_param, format_option, quiet_option

DEFAULT = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
HEADERS = {
    "ID": "NETWORK ID",
    "Name": "NAME",
    "Driver": "DRIVER",
    "Scope": "SCOPE",
    "IPv6": "IPV6",
    "Internal": "INTERNAL",
    "Labels": "LABELS",
    "CreatedAt": "CREATED AT",
}


@click.command("ls")
@filter_option()
@format_option()
@quiet_option("network IDs")
@click.option("--no-trunc", is_flag=True, help="Do not truncate the output")
def command(filters: tuple[str, ...], format_: str | None, quiet: bool, no_trunc: bool) -> None:
    """List networks."""
    from porter_cli.formatter.output import echo_rows

    networks = client().get_json("/networks", {"filters": filters_param(filters)}) or []
    rows = [
        {
            "ID": network["Id"] if no_trunc else network["Id"][:12],
            "Name": network.get("Name", ""),
            "Driver": network.get("Driver", ""),
            "Scope": network.get("Scope", ""),
            "IPv6": str(bool(network.get("EnableIPv6"))).lower(),
            "Internal": str(bool(network.get("Internal"))).lower(),
            "Labels": ",".join(
                f"{k}={v}" for k, v in sorted((network.get("Labels") or {}).items())
            ),
            "CreatedAt": network.get("Created", ""),
        }
        for network in sorted(networks, key=lambda n: n.get("Name", ""))
    ]
    echo_rows(rows, "{{.ID}}" if quiet else format_, DEFAULT, HEADERS)
