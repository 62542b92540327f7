"""porter volume inspect."""

from __future__ import annotations

import click

from porter_cli.command import format_option
from porter_cli.inspect import inspect_objects


@click.command("inspect")
@format_option("Format output: 'json' or a Go template", short=True)
@click.argument("volumes", nargs=-1, required=True)
def command(format_: str | None, volumes: tuple[str, ...]) -> None:
    """Display detailed information on one or more volumes."""
    inspect_objects(volumes, format_, ["volume"])
