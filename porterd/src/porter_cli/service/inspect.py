"""porter service inspect."""

from __future__ import annotations

import click

from porter_cli.command import format_option


def inspect_all(path: str, names: tuple[str, ...], format_: str | None) -> None:
    """Print every object `path/NAME` names; each missing one on its own line, exit 1."""
    from porter_specs.errors import PorterError

    from porter_cli.client.api import path_part
    from porter_cli.command import client
    from porter_cli.errors import ExitStatus, message
    from porter_cli.formatter.output import render_inspect

    found, failed = [], False
    for name in names:
        try:
            found.append(client().get_json(f"{path}/{path_part(name)}"))
        except PorterError as error:
            click.echo(f"porter: {message(error)}", err=True)
            failed = True
    if found:
        click.echo(render_inspect(found, format_))
    if failed:
        raise ExitStatus(1)


@click.command("inspect")
@format_option("Format output: 'json' or a Go template", short=True)
@click.argument("services", nargs=-1, required=True)
def command(format_: str | None, services: tuple[str, ...]) -> None:
    """Display detailed information on one or more services."""
    inspect_all("/services", services, format_)
