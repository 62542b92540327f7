"""porter pause / porter container pause."""

from __future__ import annotations

import click

from porter_cli.container.lifecycle import post_each


@click.command("pause")
@click.argument("containers", nargs=-1, required=True)
def command(containers: tuple[str, ...]) -> None:
    """Pause all processes within one or more containers."""
    post_each(containers, "pause")
