"""porter network inspect."""

from __future__ import annotations

import click

from porter_cli.command import format_option
from porter_cli.inspect import inspect_objects


@click.command("inspect")
@format_option("Format output: 'json' or a Go template", short=True)
@click.argument("networks", nargs=-1, required=True)
def command(format_: str | None, networks: tuple[str, ...]) -> None:
    """Display detailed information on one or more networks."""
    inspect_objects(networks, format_, ["network"])
