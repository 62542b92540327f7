"""`porter-image fsck LAYOUT`."""

from __future__ import annotations

from pathlib import Path

import click

from porter_image.cli.options import format_option
from porter_image.cli.report import report
from porter_image.layout import Layout, check_layout


@click.command("fsck")
@click.argument("layout", type=click.Path(path_type=Path))
@format_option
def command(layout: Path, output_format: str) -> None:
    """Verify a whole layout: every reference, every blob's digest and size, every schema.

    Unlike `validate`, also hashes blobs nothing references and reports stray files and
    temp files of interrupted writes. Exits 4 when it finds problems.
    """
    report(str(layout), check_layout(Layout.open(layout)), output_format)
