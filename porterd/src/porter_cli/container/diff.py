"""porter diff / porter container diff: files changed in a container's filesystem."""

from __future__ import annotations

import click

from porter_cli.command import client

KINDS = {0: "C", 1: "A", 2: "D"}


@click.command("diff")
@click.argument("container")
def command(container: str) -> None:
    """Inspect changes to files or directories on a container's filesystem."""
    from porter_cli.client.api import path_part

    for change in client().get_json(f"/containers/{path_part(container)}/changes") or []:
        click.echo(f"{KINDS.get(change.get('Kind'), '?')} {change.get('Path')}")
