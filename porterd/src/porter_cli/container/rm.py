"""porter rm / porter container rm."""

from __future__ import annotations

import click

from porter_cli.command import client, each


@click.command("rm")
@click.option(
    "-f", "--force", is_flag=True, help="Force the removal of a running container (uses SIGKILL)"
)
@click.option(
    "-v", "--volumes", is_flag=True, help="Remove anonymous volumes associated with the container"
)
@click.argument("containers", nargs=-1, required=True)
def command(force: bool, volumes: bool, containers: tuple[str, ...]) -> None:
    """Remove one or more containers."""
    from porter_cli.client.api import path_part

    params = {"force": force or None, "v": volumes or None}
    each(
        containers,
        lambda name: client().request("DELETE", f"/containers/{path_part(name)}", params).close(),
    )
