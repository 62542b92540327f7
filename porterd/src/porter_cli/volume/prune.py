"""porter volume prune."""

from __future__ import annotations

import click

from porter_cli.command import filter_option
from porter_cli.pruning import confirm, prune


@click.command("prune")
@click.option(
    "-a", "--all", "all_", is_flag=True, help="Remove all unused volumes, not just anonymous ones"
)
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@filter_option(short=False)
def command(all_: bool, force: bool, filters: tuple[str, ...]) -> None:
    """Remove unused local volumes."""
    confirm("all local volumes not used by at least one container", force)
    prune("volumes", filters, {"all": ["true"]} if all_ else None)
