"""porter wait / porter container wait: block until containers stop, print their exit codes."""

from __future__ import annotations

import click

from porter_cli.command import client, each


@click.command("wait")
@click.argument("containers", nargs=-1, required=True)
def command(containers: tuple[str, ...]) -> None:
    """Block until one or more containers stop, then print their exit codes."""
    from porter_cli.client.api import path_part

    def wait(name: str) -> str:
        result = client().post_json(f"/containers/{path_part(name)}/wait") or {}
        return str(result.get("StatusCode", 0))

    each(containers, wait, echo_name=False)
