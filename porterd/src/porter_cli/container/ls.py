"""porter ps / porter container ls: list containers (the request and the table are
porter_cli.formatter.containers', which porter_cli.quick runs without click)."""

from __future__ import annotations

import click

from porter_cli.command import client, filter_option, filters_param, format_option, quiet_option


@click.command("ps")
@click.option(
    "-a", "--all", "all_", is_flag=True, help="Show all containers (default shows just running)"
)
@click.option(
    "-n",
    "--last",
    type=int,
    default=-1,
    help="Show n last created containers (includes all states)",
)
@click.option(
    "-l", "--latest", is_flag=True, help="Show the latest created container (includes all states)"
)
@click.option("-s", "--size", is_flag=True, help="Display total file sizes")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@filter_option()
@format_option()
@quiet_option("container IDs")
def command(
    all_: bool,
    last: int,
    latest: bool,
    size: bool,
    no_trunc: bool,
    filters: tuple[str, ...],
    format_: str | None,
    quiet: bool,
) -> None:
    """List containers."""
    from porter_cli.formatter.containers import list_containers

    list_containers(
        client(),
        all_=all_,
        last=last,
        latest=latest,
        size=size,
        no_trunc=no_trunc,
        filters=filters_param(filters),
        format_=format_,
        quiet=quiet,
    )
