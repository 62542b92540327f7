"""`porter-image logout HOST`."""

from __future__ import annotations

import click

from porter_image.credentials import CredentialsError
from porter_image.login import logout, registry_host


@click.command("logout")
@click.argument("host", metavar="HOST[:PORT]")
def command(host: str) -> None:
    """Forget the stored credentials for a registry."""
    host = registry_host(host)
    if not logout(host):
        raise CredentialsError(host, "not logged in")
    click.echo(f"Removed login credentials for {host}")
