"""porter context show."""

from __future__ import annotations

import click

from porter_cli.command import session


@click.command("show")
def command() -> None:
    """Print the name of the current context."""
    click.echo(session().context_name())
