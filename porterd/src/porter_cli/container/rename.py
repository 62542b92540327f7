"""porter rename / porter container rename."""

from __future__ import annotations

import click

from porter_cli.command import client


@click.command("rename")
@click.argument("container")
@click.argument("new_name")
def command(container: str, new_name: str) -> None:
    """Rename a container."""
    from porter_cli.client.api import path_part

    client().request(
        "POST", f"/containers/{path_part(container)}/rename", {"name": new_name}
    ).close()
