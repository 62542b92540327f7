"""porter service rm."""

from __future__ import annotations

import click

from porter_cli.command import client, each


@click.command("rm")
@click.argument("services", nargs=-1, required=True)
def command(services: tuple[str, ...]) -> None:
    """Remove one or more services."""
    from porter_cli.client.api import path_part

    each(services, lambda name: client().request("DELETE", f"/services/{path_part(name)}").close())
