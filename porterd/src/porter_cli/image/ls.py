"""porter images / porter image ls: list images, one row per tag (the request and the table
are porter_cli.formatter.images', which porter_cli.quick runs without click)."""

from __future__ import annotations

import click

from porter_cli.command import client, filter_option, filters_param, format_option, quiet_option


@click.command("images")
@click.option(
    "-a", "--all", "all_", is_flag=True, help="Show all images (default hides intermediate images)"
)
@click.option("--digests", is_flag=True, help="Show digests")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@filter_option()
@format_option()
@quiet_option("image IDs")
@click.argument("reference", required=False)
def command(
    all_: bool,
    digests: bool,
    no_trunc: bool,
    filters: tuple[str, ...],
    format_: str | None,
    quiet: bool,
    reference: str | None,
) -> None:
    """List images."""
    from porter_cli.formatter.images import list_images

    list_images(
        client(),
        all_=all_,
        digests=digests,
        no_trunc=no_trunc,
        filters=filters_param(filters),
        format_=format_,
        quiet=quiet,
        reference=reference,
    )
