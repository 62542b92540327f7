"""porter image prune."""

from __future__ import annotations

import click

from porter_cli.command import filter_option
from porter_cli.pruning import confirm, prune


@click.command("prune")
@click.option(
    "-a", "--all", "all_", is_flag=True, help="Remove all unused images, not just dangling ones"
)
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@filter_option(short=False)
def command(all_: bool, force: bool, filters: tuple[str, ...]) -> None:
    """Remove unused images."""
    what = (
        "all images without at least one container associated to them"
        if all_
        else "all dangling images"
    )
    confirm(what, force)
    prune("images", filters, {"dangling": ["false"]} if all_ else None)
