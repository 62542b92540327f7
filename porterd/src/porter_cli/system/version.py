"""porter version: the client's and the daemon's versions (what it prints is
porter_cli.version_info's, which porter_cli.quick runs without click)."""

from __future__ import annotations

import click

from porter_cli.command import client, format_option


@click.command("version")
@format_option()
def command(format_: str | None) -> None:
    """Show the porter and daemon version information."""
    from porter_cli.version_info import show_version

    show_version(client(), format_=format_)
