"""porter image inspect."""

from __future__ import annotations

import click

from porter_cli.command import format_option
from porter_cli.inspect import inspect_objects


@click.command("inspect")
@format_option("Format output: 'json' or a Go template", short=True)
@click.argument("images", nargs=-1, required=True)
def command(format_: str | None, images: tuple[str, ...]) -> None:
    """Display detailed information on one or more images."""
    inspect_objects(images, format_, ["image"])
