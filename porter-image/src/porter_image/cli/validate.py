"""`porter-image validate LAYOUT[:TAG]`."""

from __future__ import annotations

import click

from porter_image.cli.options import IMAGE_OPTIONAL_TAG, format_option
from porter_image.cli.report import report
from porter_image.layout import Layout, validate_layout
from porter_image.ref import ImageRef


@click.command("validate")
@click.argument("image", type=IMAGE_OPTIONAL_TAG, metavar="LAYOUT[:TAG]")
@format_option
def command(image: ImageRef, output_format: str) -> None:
    """Check documents against the OCI schemas and blobs against their digests.

    With a TAG, checks what that tag reaches; without, the layout's header, index.json
    and every image in it. Prints each problem on its own line; exits 4 when there are any.
    """
    layout = Layout.open(image.layout)
    report(str(image), validate_layout(layout, image.tag), output_format)
