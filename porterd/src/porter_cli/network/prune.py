"""porter network prune."""

from __future__ import annotations

import click

from porter_cli.command import client, filter_option, filters_param
from porter_cli.pruning import confirm


@click.command("prune")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@filter_option(short=False)
def command(force: bool, filters: tuple[str, ...]) -> None:
    """Remove all unused networks."""
    confirm("all custom networks not used by at least one container", force)
    report = client().post_json("/networks/prune", {"filters": filters_param(filters)}) or {}
    deleted = report.get("NetworksDeleted") or []
    if deleted:
        click.echo("Deleted Networks:")
        for name in deleted:
            click.echo(name)
