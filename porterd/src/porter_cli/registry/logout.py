"""porter logout: forget the login kept for a registry."""

from __future__ import annotations

import click

from porter_cli.client.reference import DEFAULT_REGISTRY
from porter_cli.command import session


@click.command("logout")
@click.argument("server", required=False)
def command(server: str | None) -> None:
    """Log out from a registry (docker.io when SERVER is not given)."""
    registry = server or DEFAULT_REGISTRY
    if session().config.set_auth(registry, None):
        click.echo(f"Removing login credentials for {registry}")
    else:
        click.echo(f"Not logged in to {registry}")
