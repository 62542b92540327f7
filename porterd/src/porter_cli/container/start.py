"""porter start / porter container start: start stopped containers (-a to attach)."""

from __future__ import annotations

import click

from porter_cli.command import client, each
from porter_cli.errors import CliError, ExitStatus


@click.command("start")
@click.option("-a", "--attach", is_flag=True, help="Attach STDOUT/STDERR and forward signals")
@click.option("-i", "--interactive", is_flag=True, help="Attach container's STDIN")
@click.option("--detach-keys", help="Override the key sequence for detaching a container")
@click.argument("containers", nargs=-1, required=True)
def command(
    attach: bool, interactive: bool, detach_keys: str | None, containers: tuple[str, ...]
) -> None:
    """Start one or more stopped containers."""
    from porter_cli.client.api import path_part

    if not (attach or interactive):
        each(
            containers,
            lambda name: client().request("POST", f"/containers/{path_part(name)}/start").close(),
        )
        return
    if len(containers) > 1:
        raise CliError("you cannot start and attach multiple containers at once", 1)
    code = start_attached(containers[0], interactive, detach_keys)
    if code:
        raise ExitStatus(code)


def start_attached(name: str, stdin: bool, detach_keys: str | None) -> int:
    from porter_cli.client.api import path_part
    from porter_cli.container.attaching import ExitWaiter, attach_stream, stream_container
    from porter_cli.container.run import start_or_fail
    from porter_cli.terminal import DEFAULT_DETACH_KEYS, parse_detach_keys

    api = client()
    info = api.get_json(f"/containers/{path_part(name)}/json")
    container, tty = info["Id"], bool((info.get("Config") or {}).get("Tty"))
    spec = detach_keys or DEFAULT_DETACH_KEYS
    keys = parse_detach_keys(spec)
    stream = attach_stream(api, container, stdin, spec)
    waiter = ExitWaiter(api, container, "next-exit")
    waiter.start()
    try:
        start_or_fail(container, remove=False)
    except CliError:
        stream.close()
        raise
    if stream_container(api, container, stream, tty, stdin, keys if stdin else None):
        return 0
    return waiter.code()
