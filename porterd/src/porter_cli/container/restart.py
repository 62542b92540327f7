"""porter restart / porter container restart."""

from __future__ import annotations

import click

from porter_cli.container.lifecycle import post_each


@click.command("restart")
@click.option("-s", "--signal", "signal_", help="Signal to send to the container")
@click.option(
    "-t", "--time", "timeout", type=int, help="Seconds to wait before killing the container"
)
@click.argument("containers", nargs=-1, required=True)
def command(signal_: str | None, timeout: int | None, containers: tuple[str, ...]) -> None:
    """Restart one or more containers."""
    post_each(containers, "restart", {"t": timeout, "signal": signal_})
