"""`porter-image untag LAYOUT:TAG`."""

from __future__ import annotations

import click

from porter_image.cli.options import IMAGE
from porter_image.layout import Layout
from porter_image.ref import ImageRef


@click.command("untag")
@click.argument("image", type=IMAGE, metavar="LAYOUT:TAG")
def command(image: ImageRef) -> None:
    """Remove a tag. Its blobs stay until `porter-image gc`."""
    assert image.tag is not None
    Layout.open(image.layout).remove_tag(image.tag)
    click.echo(f"untagged {image}")
