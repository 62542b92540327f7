"""`porter-image unpack LAYOUT:TAG DIR`."""

from __future__ import annotations

from pathlib import Path

import click
from porter_specs.models import Platform

from porter_image.cli.options import IMAGE, platform_option, progress_for, progress_option
from porter_image.layout import Layout
from porter_image.ref import ImageRef


@click.command("unpack")
@click.argument("image", type=IMAGE, metavar="LAYOUT:TAG")
@click.argument("bundle", type=click.Path(path_type=Path), metavar="DIR")
@platform_option
@click.option(
    "--no-base",
    is_flag=True,
    help="Do not keep the pristine copy DIR/porter-base (faster; repack is then impossible).",
)
@progress_option
def command(
    image: ImageRef,
    bundle: Path,
    platform: Platform | None,
    no_base: bool,
    progress: bool | None,
) -> None:
    """Unpack an image's layers, in order, into DIR/rootfs.

    DIR must not exist or be empty (as with umoci). Whiteouts are applied; modes, owners
    (when root), xattrs, links, device nodes (when root) and times are kept. Besides the
    rootfs, DIR receives porter-image.json (which manifest was unpacked) and porter-base/,
    the unmodified tree that `repack` diffs against.
    """
    from porter_image.unpack import (
        unpack_image,
    )  # imported late: keeps start-up of other commands fast

    layout = Layout.open(image.layout)
    assert image.tag is not None
    unpacked = unpack_image(
        layout, image.tag, bundle, platform, keep_base=not no_base, progress=progress_for(progress)
    )
    click.echo(f"unpacked {image} ({unpacked.descriptor.digest}) into {bundle / 'rootfs'}")
