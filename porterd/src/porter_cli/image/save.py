"""porter save / porter image save: images as a tar archive (docker's format)."""

from __future__ import annotations

import click

from porter_cli.command import client
from porter_cli.download import write_download


@click.command("save")
@click.option("-o", "--output", help="Write to a file, instead of STDOUT")
@click.argument("images", nargs=-1, required=True)
def command(output: str | None, images: tuple[str, ...]) -> None:
    """Save one or more images to a tar archive (streamed to STDOUT by default)."""
    response = client().request("GET", "/images/get", {"names": list(images)})
    write_download(response, output)
