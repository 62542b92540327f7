"""porter container prune."""

from __future__ import annotations

import click

from porter_cli.command import filter_option
from porter_cli.pruning import confirm, prune


@click.command("prune")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@filter_option(short=False)
def command(force: bool, filters: tuple[str, ...]) -> None:
    """Remove all stopped containers."""
    confirm("all stopped containers", force)
    prune("containers", filters)
