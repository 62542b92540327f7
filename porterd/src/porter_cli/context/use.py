"""porter context use."""

from __future__ import annotations

import click

from porter_cli.command import session


@click.command("use")
@click.argument("name")
def command(name: str) -> None:
    """Set the current context."""
    from porter_cli.contexts import ContextStore
    from porter_cli.errors import CliError

    current = session()
    if not ContextStore(current.config_dir).exists(name):
        raise CliError(f"context {name!r} does not exist")
    current.config.set_current_context(name)
    click.echo(name)
    click.echo(f'Current context is now "{name}"', err=True)
