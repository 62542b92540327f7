"""porter network disconnect."""

from __future__ import annotations

import click

from porter_cli.command import client


@click.command("disconnect")
@click.option(
    "-f", "--force", is_flag=True, help="Force the container to disconnect from a network"
)
@click.argument("network")
@click.argument("container")
def command(force: bool, network: str, container: str) -> None:
    """Disconnect a container from a network."""
    from porter_cli.client.api import path_part

    body = {"Container": container, "Force": force}
    client().request("POST", f"/networks/{path_part(network)}/disconnect", body=body).close()
