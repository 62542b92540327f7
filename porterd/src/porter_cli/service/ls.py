"""porter service ls."""

from __future__ import annotations

import click

from porter_cli.command import client, filter_option, filters_param, format_option, quiet_option

DEFAULT = "table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}"
HEADERS = {
    "ID": "ID",
    "Name": "NAME",
    "Mode": "MODE",
    "Replicas": "REPLICAS",
    "Image": "IMAGE",
    "Ports": "PORTS",
}


def ports_text(service: dict) -> str:
    ports = (service.get("Endpoint") or {}).get("Ports") or []
    return ", ".join(
        f"*:{p['PublishedPort']}->{p['TargetPort']}/{p.get('Protocol', 'tcp')}"
        for p in ports
        if p.get("PublishedPort")
    )


@click.command("ls")
@filter_option()
@format_option()
@quiet_option("service IDs")
def command(filters: tuple[str, ...], format_: str | None, quiet: bool) -> None:
    """List services."""
    from porter_cli.formatter.output import echo_rows

    params = {"filters": filters_param(filters), "status": "true"}
    services = client().get_json("/services", params) or []
    rows = []
    for service in sorted(services, key=lambda s: s["Spec"]["Name"]):
        spec = service["Spec"]
        status = service.get("ServiceStatus") or {}
        rows.append(
            {
                "ID": service["ID"][:12],
                "Name": spec["Name"],
                "Mode": "global" if "Global" in spec.get("Mode", {}) else "replicated",
                "Replicas": f"{status.get('RunningTasks', 0)}/{status.get('DesiredTasks', 0)}",
                "Image": spec["TaskTemplate"]["ContainerSpec"]["Image"],
                "Ports": ports_text(service),
            }
        )
    echo_rows(rows, "{{.ID}}" if quiet else format_, DEFAULT, HEADERS)
