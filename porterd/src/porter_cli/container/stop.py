"""porter stop / porter container stop."""

from __future__ import annotations

import click

from porter_cli.container.lifecycle import post_each


@click.command("stop")
@click.option("-s", "--signal", "signal_", help="Signal to send to the container")
@click.option(
    "-t", "--time", "timeout", type=int, help="Seconds to wait before killing the container"
)
@click.argument("containers", nargs=-1, required=True)
def command(signal_: str | None, timeout: int | None, containers: tuple[str, ...]) -> None:
    """Stop one or more running containers."""
    post_each(containers, "stop", {"t": timeout, "signal": signal_})
