"""`porter-image tag LAYOUT:TAG NEW_TAG`."""

from __future__ import annotations

import click

from porter_image.cli.options import IMAGE
from porter_image.layout import Layout
from porter_image.ref import ImageRef


@click.command("tag")
@click.argument("image", type=IMAGE, metavar="LAYOUT:TAG")
@click.argument("new_tag")
def command(image: ImageRef, new_tag: str) -> None:
    """Give the image LAYOUT:TAG another tag, NEW_TAG (replacing what NEW_TAG named)."""
    layout = Layout.open(image.layout)
    assert image.tag is not None
    descriptor = layout.resolve(image.tag)
    layout.set_tag(new_tag, descriptor)
    click.echo(f"{image.layout}:{new_tag} -> {descriptor.digest}")
