"""porter kill / porter container kill."""

from __future__ import annotations

import click

from porter_cli.container.lifecycle import post_each


@click.command("kill")
@click.option("-s", "--signal", "signal_", default="KILL", show_default=True, help="Signal to send")
@click.argument("containers", nargs=-1, required=True)
def command(signal_: str, containers: tuple[str, ...]) -> None:
    """Kill one or more running containers."""
    post_each(containers, "kill", {"signal": signal_})
