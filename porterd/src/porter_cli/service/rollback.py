"""porter service rollback."""

from __future__ import annotations

import click


@click.command("rollback")
@click.option("-d", "--detach", is_flag=True, help="Exit immediately (porter never waits)")
@click.argument("service")
def command(detach: bool, service: str) -> None:
    """Revert changes to a service's configuration."""
    from porter_cli.service.scale import update_spec

    update_spec(service, None, {"rollback": "previous"})
    click.echo(service)
