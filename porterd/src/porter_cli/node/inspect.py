"""porter node inspect."""

from __future__ import annotations

import click

from porter_cli.command import format_option


@click.command("inspect")
@format_option("Format output: 'json' or a Go template", short=True)
@click.argument("nodes", nargs=-1, required=True)
def command(format_: str | None, nodes: tuple[str, ...]) -> None:
    """Display detailed information on one or more nodes."""
    from porter_cli.service.inspect import inspect_all

    inspect_all("/nodes", nodes, format_)
