"""porter export / porter container export: a container's filesystem as a tar archive."""

from __future__ import annotations

import click

from porter_cli.command import client
from porter_cli.download import write_download


@click.command("export")
@click.option("-o", "--output", help="Write to a file, instead of STDOUT")
@click.argument("container")
def command(output: str | None, container: str) -> None:
    """Export a container's filesystem as a tar archive."""
    from porter_cli.client.api import path_part

    write_download(client().request("GET", f"/containers/{path_part(container)}/export"), output)
