"""porter network rm."""

from __future__ import annotations

import click

from porter_cli.command import client, each


@click.command("rm")
@click.argument("networks", nargs=-1, required=True)
def command(networks: tuple[str, ...]) -> None:
    """Remove one or more networks."""
    from porter_cli.client.api import path_part

    each(
        networks,
        lambda name: client().request("DELETE", f"/networks/{path_part(name)}").close(),
    )
