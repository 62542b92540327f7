"""The commands that send one request per container and print its name: stop, kill,
restart, pause, unpause (each module defines its click command with `post_each`)."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client, each


def post_each(names: tuple[str, ...], action: str, params: dict[str, Any] | None = None) -> None:
    """POST /containers/NAME/ACTION for every name, docker style (see command.each)."""
    from porter_cli.client.api import path_part

    each(
        names,
        lambda name: (
            client().request("POST", f"/containers/{path_part(name)}/{action}", params).close()
        ),
    )


def stopping_command(action: str, help_text: str) -> click.Command:
    """stop and restart: the same options (-s signal, -t grace time) for another action."""

    @click.command(action, help=help_text)
    @click.option("-s", "--signal", "signal_", help="Signal to send to the container")
    @click.option("-t", "--time", "timeout", type=int, help="Seconds to wait before killing it")
    @click.argument("containers", nargs=-1, required=True)
    def command(signal_: str | None, timeout: int | None, containers: tuple[str, ...]) -> None:
        post_each(containers, action, {"t": timeout, "signal": signal_})

    return command
