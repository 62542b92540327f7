"""porter history / porter image history."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client, format_option, quiet_option

DEFAULT = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HEADERS = {
    "ID": "IMAGE",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "CreatedBy": "CREATED BY",
    "Size": "SIZE",
    "Comment": "COMMENT",
}


def row(layer: dict[str, Any], truncate: bool, human: bool) -> dict[str, Any]:
    from porter_cli.formatter.containers import ellipsis, short_id
    from porter_cli.formatter.units import human_size, since

    ident = layer.get("Id") or "<missing>"
    created_by = " ".join((layer.get("CreatedBy") or "").split())
    created = layer.get("Created") or 0
    size = layer.get("Size") or 0
    return {
        "ID": short_id(ident, truncate) if ident != "<missing>" else ident,
        "CreatedSince": since(created) if human else str(created),
        "CreatedAt": str(created),
        "CreatedBy": ellipsis(created_by, 45) if truncate else created_by,
        "Size": human_size(size) if human else str(size),
        "Comment": layer.get("Comment") or "",
    }


@click.command("history")
@click.option(
    "-H", "--human/--no-human", default=True, help="Print sizes and dates in human readable format"
)
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@format_option()
@quiet_option("image IDs")
@click.argument("image")
def command(human: bool, no_trunc: bool, format_: str | None, quiet: bool, image: str) -> None:
    """Show the history of an image."""
    from porter_cli.client.api import path_part
    from porter_cli.formatter.output import echo_rows

    layers = client().get_json(f"/images/{path_part(image)}/history") or []
    if quiet:
        format_ = "{{.ID}}"
    echo_rows([row(layer, not no_trunc, human) for layer in layers], format_, DEFAULT, HEADERS)
