"""porter node update."""

from __future__ import annotations

import click

from porter_cli.command import client


@click.command("update")
@click.option(
    "--availability",
    type=click.Choice(["active", "pause", "drain"]),
    help="Availability of the node",
)
@click.option("--role", type=click.Choice(["worker", "manager"]), help="Role of the node")
@click.option("--label-add", multiple=True, metavar="KEY=VALUE", help="Add or update a node label")
@click.option("--label-rm", multiple=True, metavar="KEY", help="Remove a node label if it exists")
@click.argument("node")
def command(
    availability: str | None,
    role: str | None,
    label_add: tuple[str, ...],
    label_rm: tuple[str, ...],
    node: str,
) -> None:
    """Update a node."""
    from porter_cli.client.api import path_part
    from porter_cli.container.parsing import key_values

    api = client()
    current = api.get_json(f"/nodes/{path_part(node)}")
    spec = dict(current["Spec"])
    labels = {k: v for k, v in (spec.get("Labels") or {}).items() if k not in label_rm}
    spec["Labels"] = {**labels, **key_values("--label", label_add)}
    if availability:
        spec["Availability"] = availability
    if role:
        spec["Role"] = role
    params = {"version": str(current["Version"]["Index"])}
    api.post_json(f"/nodes/{path_part(current['ID'])}/update", params, body=spec)
    click.echo(node)
