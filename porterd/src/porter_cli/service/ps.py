"""porter service ps."""

from __future__ import annotations

import json

import click

from porter_cli.command import client, filter_option, filters_param, format_option, quiet_option

DEFAULT = (
    "table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}"
    "\t{{.Error}}"
)
HEADERS = {
    "ID": "ID",
    "Name": "NAME",
    "Image": "IMAGE",
    "Node": "NODE",
    "DesiredState": "DESIRED STATE",
    "CurrentState": "CURRENT STATE",
    "Error": "ERROR",
}


@click.command("ps")
@filter_option()
@format_option()
@quiet_option("task IDs")
@click.argument("services", nargs=-1, required=True)
def command(filters: tuple[str, ...], format_: str | None, quiet: bool, services: tuple) -> None:
    """List the tasks of one or more services."""
    from porter_cli.client.api import path_part
    from porter_cli.formatter.output import echo_rows

    api = client()
    nodes = {n["ID"]: n["Description"]["Hostname"] for n in api.get_json("/nodes") or []}
    rows = []
    for name in services:
        service = api.get_json(f"/services/{path_part(name)}")
        wanted = filters_param(filters) or {}
        wanted["service"] = [service["ID"]]
        tasks = api.get_json("/tasks", {"filters": json.dumps(wanted)}) or []
        for task in sorted(tasks, key=lambda t: (t.get("Slot") or 0, t.get("CreatedAt", ""))):
            status = task["Status"]
            slot = task.get("Slot") or task["NodeID"]
            rows.append(
                {
                    "ID": task["ID"][:12],
                    "Name": f"{service['Spec']['Name']}.{slot}",
                    "Image": task["Spec"]["ContainerSpec"]["Image"],
                    "Node": nodes.get(task["NodeID"], task["NodeID"][:12]),
                    "DesiredState": task["DesiredState"].capitalize(),
                    "CurrentState": status["State"].capitalize(),
                    "Error": status.get("Err", ""),
                }
            )
    echo_rows(rows, "{{.ID}}" if quiet else format_, DEFAULT, HEADERS)
