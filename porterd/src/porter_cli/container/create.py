"""porter create / porter container create: create a container without starting it."""

from __future__ import annotations

import sys
from typing import Any

import click

from porter_cli.command import client
from porter_cli.container.options import build_config, container_options
from porter_cli.errors import DAEMON_EXIT, CliError

# -h is --hostname, as in docker; options stop at the image so the command keeps its own.
RUN_SETTINGS = {"help_option_names": ["--help"], "allow_interspersed_args": False}


def create_container(
    config: dict[str, Any],
    name: str | None,
    platform: str | None,
    pull: str,
    cidfile: str | None = None,
) -> str:
    """Create the container, pulling its image first when it is missing (`--pull missing`:
    create, 404 for the image, pull, create again) or always; returns its id."""
    from porter_cli.client.errors import APIError
    from porter_cli.image.pull import pull_image

    image = config["Image"]
    if pull == "always":
        pull_image(image, platform, out=sys.stderr)
    params = {"name": name, "platform": platform}
    try:
        created = client().post_json("/containers/create", params, config)
    except APIError as error:
        if not (error.not_found and pull == "missing" and "image" in error.message.lower()):
            raise
        click.echo(f"Unable to find image '{image}' locally", err=True)
        pull_image(image, platform, out=sys.stderr)
        created = client().post_json("/containers/create", params, config)
    for warning in created.get("Warnings") or []:
        click.echo(f"WARNING: {warning}", err=True)
    if cidfile:
        _write_cidfile(cidfile, created["Id"])
    return str(created["Id"])


def _write_cidfile(path: str, container_id: str) -> None:
    try:
        with open(path, "x") as out:
            out.write(container_id)
    except FileExistsError:
        raise CliError(
            f"container ID file {path} exists: is another container running? delete it",
            DAEMON_EXIT,
        ) from None


def daemon_errors_exit_125(function: Any) -> Any:
    """run and create exit 125 when the daemon refuses (docker's convention)."""
    import functools

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from porter_specs.errors import PorterError

        try:
            return function(*args, **kwargs)
        except CliError:
            raise
        except PorterError as error:
            raise CliError(str(error), DAEMON_EXIT) from error

    return wrapper


@click.command("create", context_settings=RUN_SETTINGS)
@container_options
@click.argument("image")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@daemon_errors_exit_125
def command(image: str, command: tuple[str, ...], **options: Any) -> None:
    """Create a new container."""
    # as docker create: stdout and stderr attachable, stdin once with -i (start -ai relies on it)
    config = build_config(image, command, options, detach=False)
    click.echo(
        create_container(
            config, options["name"], options["platform"], options["pull"], options["cidfile"]
        )
    )
