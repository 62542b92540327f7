"""porter inspect: low-level information on containers, images or volumes (tried in that
order unless --type says which); also the body of `container|image|volume inspect`."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client, format_option

TYPES = ("container", "image", "volume")


def fetch(kind: str, name: str, size: bool) -> Any:
    from porter_cli.client.api import path_part

    if kind == "container":
        return client().get_json(f"/containers/{path_part(name)}/json", {"size": size or None})
    if kind == "image":
        return client().get_json(f"/images/{path_part(name)}/json")
    if kind == "network":
        return client().get_json(f"/networks/{path_part(name)}")
    return client().get_json(f"/volumes/{path_part(name)}")


def find(name: str, kinds: list[str], size: bool) -> Any:
    from porter_cli.client.errors import APIError

    for kind in kinds:
        try:
            return fetch(kind, name, size)
        except APIError as error:
            if not error.not_found or len(kinds) == 1:
                raise
    raise click.ClickException(f"No such object: {name}")


def inspect_objects(
    names: tuple[str, ...], format_: str | None, kinds: list[str], size: bool = False
) -> None:
    """Print every object found (JSON array or the template per object); report each name
    not found on its own line and exit 1 at the end, as docker does."""
    from porter_specs.errors import PorterError

    from porter_cli.errors import ExitStatus, message
    from porter_cli.formatter.output import render_inspect

    found, failed = [], False
    for name in names:
        try:
            found.append(find(name, kinds, size))
        except (PorterError, click.ClickException) as error:
            text = (
                error.format_message()
                if isinstance(error, click.ClickException)
                else message(error)
            )
            click.echo(f"porter: {text}", err=True)
            failed = True
    if found or not format_:
        click.echo(render_inspect(found, format_))
    if failed:
        raise ExitStatus(1)


@click.command("inspect")
@click.option("--type", "type_", type=click.Choice(TYPES), help="Only inspect objects of this type")
@click.option(
    "-s", "--size", is_flag=True, help="Display total file sizes if the type is container"
)
@format_option("Format output: 'json' or a Go template", short=True)
@click.argument("names", nargs=-1, required=True)
def command(type_: str | None, size: bool, format_: str | None, names: tuple[str, ...]) -> None:
    """Return low-level information on Docker objects."""
    inspect_objects(names, format_, [type_] if type_ else list(TYPES), size)
