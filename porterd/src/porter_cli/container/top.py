"""porter top / porter container top: the processes of a container."""

from __future__ import annotations

import click

from porter_cli.command import client


@click.command("top", context_settings={"ignore_unknown_options": True})
@click.argument("container")
@click.argument("ps_options", nargs=-1, type=click.UNPROCESSED)
def command(container: str, ps_options: tuple[str, ...]) -> None:
    """Display the running processes of a container."""
    from porter_cli.client.api import path_part
    from porter_cli.formatter.output import tabulate

    params = {"ps_args": " ".join(ps_options) or None}
    result = client().get_json(f"/containers/{path_part(container)}/top", params) or {}
    lines = ["\t".join(result.get("Titles") or [])]
    lines += ["\t".join(str(cell) for cell in process) for process in result.get("Processes") or []]
    click.echo(tabulate(lines))
