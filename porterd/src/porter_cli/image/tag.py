"""porter tag / porter image tag: give an image another name."""

from __future__ import annotations

import click

from porter_cli.command import client


@click.command("tag")
@click.argument("source")
@click.argument("target")
def command(source: str, target: str) -> None:
    """Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."""
    from porter_cli.client.api import path_part
    from porter_cli.image.naming import repo_tag_params

    params = repo_tag_params(target)
    client().request("POST", f"/images/{path_part(source)}/tag", params).close()
