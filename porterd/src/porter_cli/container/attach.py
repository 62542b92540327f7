"""porter attach / porter container attach: attach the terminal to a running container."""

from __future__ import annotations

import sys

import click

from porter_cli.command import client
from porter_cli.errors import CliError, ExitStatus


@click.command("attach")
@click.option("--detach-keys", help="Override the key sequence for detaching a container")
@click.option("--no-stdin", is_flag=True, help="Do not attach STDIN")
@click.option(
    "--sig-proxy/--no-sig-proxy", default=True, help="Proxy all received signals to the process"
)
@click.argument("container")
def command(detach_keys: str | None, no_stdin: bool, sig_proxy: bool, container: str) -> None:
    """Attach local standard input, output, and error streams to a running container."""
    from porter_cli.client.api import path_part
    from porter_cli.container.attaching import attach_stream, stream_container
    from porter_cli.terminal import DEFAULT_DETACH_KEYS, parse_detach_keys

    api = client()
    info = api.get_json(f"/containers/{path_part(container)}/json")
    state = info.get("State") or {}
    if not state.get("Running"):
        raise CliError("You cannot attach to a stopped container, start it first", 1)
    if state.get("Paused"):
        raise CliError("You cannot attach to a paused container, unpause it first", 1)
    config = info.get("Config") or {}
    tty = bool(config.get("Tty"))
    stdin = bool(config.get("OpenStdin")) and not no_stdin
    if tty and stdin and not sys.stdin.isatty():
        raise CliError("the input device is not a TTY", 1)
    spec = detach_keys or DEFAULT_DETACH_KEYS
    keys = parse_detach_keys(spec)
    stream = attach_stream(api, info["Id"], stdin, spec)
    if stream_container(api, info["Id"], stream, tty, stdin, keys if stdin else None, sig_proxy):
        return
    result = api.post_json(f"/containers/{info['Id']}/wait", {"condition": "not-running"}) or {}
    code = int(result.get("StatusCode") or 0)
    if code:
        raise ExitStatus(code)
