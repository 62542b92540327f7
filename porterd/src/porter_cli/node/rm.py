"""porter node rm."""

from __future__ import annotations

import click

from porter_cli.command import client, each


@click.command("rm")
@click.option("-f", "--force", is_flag=True, help="Force-remove a node from the cluster")
@click.argument("nodes", nargs=-1, required=True)
def command(force: bool, nodes: tuple[str, ...]) -> None:
    """Remove one or more nodes from the cluster."""
    from porter_cli.client.api import path_part

    each(
        nodes,
        lambda name: (
            client()
            .request("DELETE", f"/nodes/{path_part(name)}", {"force": force or None})
            .close()
        ),
    )
