"""`porter-image init LAYOUT`."""

from __future__ import annotations

from pathlib import Path

import click

from porter_image.layout import Layout


@click.command("init")
@click.argument("layout", type=click.Path(path_type=Path))
def command(layout: Path) -> None:
    """Create an empty OCI image layout at LAYOUT (a new or empty directory)."""
    Layout.create(layout)
    click.echo(f"created layout {layout}")
