"""porter push / porter image push: upload an image to its registry."""

from __future__ import annotations

import click

from porter_cli.command import client


@click.command("push")
@click.option("-q", "--quiet", is_flag=True, help="Suppress verbose output")
@click.argument("name")
def command(quiet: bool, name: str) -> None:
    """Upload an image to a registry."""
    from porter_cli.client.api import path_part
    from porter_cli.client.stream import json_messages
    from porter_cli.image.naming import auth_header, parse_reference
    from porter_cli.progress import display

    ref = parse_reference(name)
    path = f"/images/{path_part(ref.repository)}/push"
    response = client().request("POST", path, {"tag": ref.tag}, headers=auth_header(ref))
    display(json_messages(response.iter_chunks()), quiet=quiet)
    if quiet:
        click.echo(str(ref))
