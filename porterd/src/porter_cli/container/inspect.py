"""porter container inspect: low-level information on containers, as JSON or a template."""

from __future__ import annotations

import click

from porter_cli.command import format_option
from porter_cli.inspect import inspect_objects


@click.command("inspect")
@click.option("-s", "--size", is_flag=True, help="Display total file sizes")
@format_option("Format output: 'json' or a Go template", short=True)
@click.argument("containers", nargs=-1, required=True)
def command(size: bool, format_: str | None, containers: tuple[str, ...]) -> None:
    """Display detailed information on one or more containers."""
    inspect_objects(containers, format_, ["container"], size)
