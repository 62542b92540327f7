"""porter node ls."""

from __future__ import annotations

import click

from porter_cli.command import client, filter_option, filters_param, format_option, quiet_option

DEFAULT = (
    "table {{.ID}}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}"
    "\t{{.EngineVersion}}"
)
HEADERS = {
    "ID": "ID",
    "Hostname": "HOSTNAME",
    "Status": "STATUS",
    "Availability": "AVAILABILITY",
    "ManagerStatus": "MANAGER STATUS",
    "EngineVersion": "ENGINE VERSION",
}


@click.command("ls")
@filter_option()
@format_option()
@quiet_option("node IDs")
def command(filters: tuple[str, ...], format_: str | None, quiet: bool) -> None:
    """List the nodes of the cluster (this node marked with *)."""
    from porter_cli.formatter.output import echo_rows

    api = client()
    nodes = api.get_json("/nodes", {"filters": filters_param(filters)}) or []
    this = ((api.get_json("/info") or {}).get("Swarm") or {}).get("NodeID", "")
    rows = []
    for node in sorted(nodes, key=lambda n: n["Description"]["Hostname"]):
        manager = node.get("ManagerStatus") or {}
        rows.append(
            {
                "ID": node["ID"] + (" *" if node["ID"] == this else ""),
                "Hostname": node["Description"]["Hostname"],
                "Status": node["Status"]["State"].capitalize(),
                "Availability": node["Spec"].get("Availability", "").capitalize(),
                "ManagerStatus": "Leader"
                if manager.get("Leader")
                else manager.get("Reachability", "").capitalize(),
                "EngineVersion": node["Description"].get("Engine", {}).get("EngineVersion", ""),
            }
        )
    echo_rows(rows, "{{.ID}}" if quiet else format_, DEFAULT, HEADERS)
