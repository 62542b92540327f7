"""The commands that send one request per container and print its name: stop, kill,
restart, pause, unpause (each module defines its click command with `action`)."""

from __future__ import annotations

from typing import Any

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
