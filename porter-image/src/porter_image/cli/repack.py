"""`porter-image repack LAYOUT:TAG DIR`."""

from __future__ import annotations

from pathlib import Path

import click

from porter_image.cli.options import (
    IMAGE,
    compression_name,
    fixed_mtime,
    layer_options,
    progress_for,
    progress_option,
)
from porter_image.layout import Layout
from porter_image.ref import ImageRef


@click.command("repack")
@click.argument("image", type=IMAGE, metavar="LAYOUT:TAG")
@click.argument("bundle", type=click.Path(path_type=Path, exists=True), metavar="DIR")
@layer_options
@click.option("--created-by", default="porter-image repack", help="History entry's created_by.")
@click.option("--comment", default="", help="History entry's comment.")
@click.option(
    "--no-refresh",
    is_flag=True,
    help="Leave DIR's listing as it was (the next repack diffs against the old image again).",
)
@progress_option
def command(
    image: ImageRef,
    bundle: Path,
    compression: str,
    mtime: int | None,
    reproducible: bool,
    created_by: str,
    comment: str,
    no_refresh: bool,
    progress: bool | None,
) -> None:
    """Commit the changes made in DIR/rootfs as a new layer, tagged TAG.

    DIR is a directory made by `porter-image unpack`. What changed since the listing of the
    tree recorded there (any path whose type, mode, owner, size, mtime, link target, device,
    inode or ctime differs; deletions as .wh. whiteouts) is appended to the image it was
    unpacked from, with the config's diff_ids and history updated, like `umoci repack`.
    Afterwards DIR's listing is brought up to date, so repack can be run again after
    further changes.
    Prints the new manifest's digest.
    """
    from porter_image.repack import (
        RepackOptions,
        repack_image,
    )  # imported late: keeps start-up of other commands fast

    options = RepackOptions(
        compression=compression_name(compression),
        mtime=fixed_mtime(mtime, reproducible),
        created_by=created_by,
        comment=comment,
        refresh=not no_refresh,
    )
    assert image.tag is not None
    layout = Layout.open(image.layout)
    descriptor = repack_image(layout, image.tag, bundle, options, progress_for(progress))
    click.echo(str(descriptor.digest))
