"""porter volume rm."""

from __future__ import annotations

import click

from porter_cli.command import client, each


@click.command("rm")
@click.option("-f", "--force", is_flag=True, help="Force the removal of one or more volumes")
@click.argument("volumes", nargs=-1, required=True)
def command(force: bool, volumes: tuple[str, ...]) -> None:
    """Remove one or more volumes."""
    from porter_cli.client.api import path_part

    each(
        volumes,
        lambda name: (
            client()
            .request("DELETE", f"/volumes/{path_part(name)}", {"force": force or None})
            .close()
        ),
    )
