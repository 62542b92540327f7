"""porter system prune: stopped containers, dangling (or all unused) images, and volumes
with --volumes."""

from __future__ import annotations

import click

from porter_cli.command import filter_option
from porter_cli.pruning import confirm, prune


@click.command("prune")
@click.option(
    "-a", "--all", "all_", is_flag=True, help="Remove all unused images not just dangling ones"
)
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.option("--volumes", is_flag=True, help="Prune anonymous volumes")
@filter_option(short=False)
def command(all_: bool, force: bool, volumes: bool, filters: tuple[str, ...]) -> None:
    """Remove unused data."""
    from porter_cli.formatter.units import human_size

    what = ["all stopped containers"]
    if volumes:
        what.append("all anonymous volumes not used by at least one container")
    what.append(
        "all images without at least one container associated to them"
        if all_
        else "all dangling images"
    )
    confirm(", ".join(what), force)
    total = prune("containers", filters)
    if volumes:
        total += prune("volumes", filters)
    total += prune("images", filters, {"dangling": ["false"]} if all_ else None)
    click.echo(f"\nTotal reclaimed space: {human_size(total)}")
