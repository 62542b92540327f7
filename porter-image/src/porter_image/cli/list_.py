"""`porter-image list LAYOUT`."""

from __future__ import annotations

from pathlib import Path

import click

from porter_image.cli.options import format_option, print_json
from porter_image.layout import Layout


@click.command("list")
@click.argument("layout", type=click.Path(path_type=Path))
@format_option
def command(layout: Path, output_format: str) -> None:
    """List the tags of a layout, with the digest and media type each names."""
    entries = [e for e in Layout.open(layout).entries() if e.tag is not None]
    entries.sort(key=lambda e: e.tag or "")
    if output_format == "json":
        print_json(
            [
                {
                    "tag": e.tag,
                    "digest": str(e.descriptor.digest),
                    "mediaType": e.descriptor.media_type,
                    "size": e.descriptor.size,
                }
                for e in entries
            ]
        )
        return
    for e in entries:
        click.echo(f"{e.tag}\t{e.descriptor.digest}")
