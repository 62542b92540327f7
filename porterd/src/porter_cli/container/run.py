"""porter run / porter container run: create and start a container, attached to it unless -d."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click

from porter_cli.command import client
from porter_cli.container.create import RUN_SETTINGS, create_container, daemon_errors_exit_125
from porter_cli.container.options import build_config, container_options
from porter_cli.errors import CliError, ExitStatus


def start_or_fail(container: str, remove: bool) -> None:
    """Start; a refused start exits 126/127/125 as docker's does (after removing the
    container when --rm asked for it)."""
    from porter_cli.client.api import path_part
    from porter_cli.client.errors import APIError
    from porter_cli.errors import start_failure_code

    try:
        client().request("POST", f"/containers/{path_part(container)}/start").close()
    except APIError as error:
        if remove:
            with contextlib.suppress(Exception):
                client().delete(f"/containers/{path_part(container)}", {"force": True})
        raise CliError(str(error), start_failure_code(error.message)) from error


@click.command("run", context_settings=RUN_SETTINGS)
@click.option(
    "-d", "--detach", is_flag=True, help="Run container in background and print container ID"
)
@click.option(
    "--detach-keys",
    help="Override the key sequence for detaching a container (default ctrl-p,ctrl-q)",
)
@click.option(
    "--sig-proxy/--no-sig-proxy",
    default=True,
    help="Proxy received signals to the process (no TTY only)",
)
@container_options
@click.argument("image")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@daemon_errors_exit_125
def command(
    image: str,
    command: tuple[str, ...],
    detach: bool,
    detach_keys: str | None,
    sig_proxy: bool,
    **options: Any,
) -> None:
    """Create and run a new container from an image."""
    from porter_cli.container.attaching import ExitWaiter, attach_stream, stream_container
    from porter_cli.terminal import DEFAULT_DETACH_KEYS, parse_detach_keys

    tty, stdin = options["tty"], options["interactive"]
    if tty and stdin and not detach and not sys.stdin.isatty():
        raise CliError("the input device is not a TTY", 1)
    spec = detach_keys or DEFAULT_DETACH_KEYS
    keys = parse_detach_keys(spec)
    config = build_config(image, command, options, detach)
    container = create_container(
        config, options["name"], options["platform"], options["pull"], options["cidfile"]
    )
    if detach:
        start_or_fail(container, options["rm"])
        click.echo(container)
        return
    api = client()
    stream = attach_stream(api, container, stdin, spec)
    waiter = ExitWaiter(api, container, "removed" if options["rm"] else "next-exit")
    waiter.start()
    try:
        start_or_fail(container, options["rm"])
    except CliError:
        stream.close()
        raise
    if stream_container(api, container, stream, tty, stdin, keys if stdin else None, sig_proxy):
        return
    code = waiter.code()
    if code:
        raise ExitStatus(code)
