"""porter exec / porter container exec: run a command in a running container."""

from __future__ import annotations

import sys

import click

from porter_cli.command import client
from porter_cli.errors import CliError, ExitStatus


@click.command("exec", context_settings={"allow_interspersed_args": False})
@click.option("-d", "--detach", is_flag=True, help="Detached mode: run command in the background")
@click.option("--detach-keys", help="Override the key sequence for detaching a container")
@click.option("-e", "--env", multiple=True, help="Set environment variables")
@click.option("--env-file", multiple=True, help="Read in a file of environment variables")
@click.option("-i", "--interactive", is_flag=True, help="Keep STDIN open even if not attached")
@click.option("--privileged", is_flag=True, help="Give extended privileges to the command")
@click.option("-t", "--tty", is_flag=True, help="Allocate a pseudo-TTY")
@click.option("-u", "--user", help="Username or UID (format: <name|uid>[:<group|gid>])")
@click.option("-w", "--workdir", help="Working directory inside the container")
@click.argument("container")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def command(
    detach: bool,
    detach_keys: str | None,
    env: tuple[str, ...],
    env_file: tuple[str, ...],
    interactive: bool,
    privileged: bool,
    tty: bool,
    user: str | None,
    workdir: str | None,
    container: str,
    command: tuple[str, ...],
) -> None:
    """Execute a command in a running container."""
    from porter_cli.client.api import path_part
    from porter_cli.container.parsing import env_list
    from porter_cli.terminal import (
        DEFAULT_DETACH_KEYS,
        follow_window,
        parse_detach_keys,
        pump,
        raw_mode,
    )

    if tty and interactive and not detach and not sys.stdin.isatty():
        raise CliError("the input device is not a TTY", 1)
    spec = detach_keys or DEFAULT_DETACH_KEYS
    keys = parse_detach_keys(spec)
    api = client()
    config = {
        "AttachStdin": interactive and not detach,
        "AttachStdout": not detach,
        "AttachStderr": not detach,
        "Tty": tty,
        "Cmd": list(command),
        "Env": env_list(env, env_file) or None,
        "User": user or "",
        "WorkingDir": workdir or "",
        "Privileged": privileged,
        "DetachKeys": spec,
    }
    exec_id = api.post_json(f"/containers/{path_part(container)}/exec", body=config)["Id"]
    if detach:
        api.request("POST", f"/exec/{exec_id}/start", body={"Detach": True, "Tty": tty}).close()
        return
    stream = api.hijack(f"/exec/{exec_id}/start", body={"Detach": False, "Tty": tty})

    def resize(height: int, width: int) -> None:
        api.request("POST", f"/exec/{exec_id}/resize", {"h": height, "w": width}).close()

    with raw_mode(tty and interactive), follow_window(resize, tty):
        if pump(stream, tty, interactive, keys if interactive else None):
            return
    code = (api.get_json(f"/exec/{exec_id}/json") or {}).get("ExitCode") or 0
    if code:
        raise ExitStatus(int(code))
