"""`porter-image import SOURCE LAYOUT:TAG`."""

from __future__ import annotations

from pathlib import Path

import click

from porter_image.cli.options import (
    IMAGE,
    compression_name,
    fixed_mtime,
    key_values,
    layer_options,
    progress_for,
    progress_option,
)
from porter_image.ref import ImageRef


@click.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("image", type=IMAGE, metavar="LAYOUT:TAG")
@layer_options
@click.option(
    "--annotation",
    "annotations",
    multiple=True,
    callback=key_values,
    metavar="KEY=VALUE",
    help="Annotation of the image manifest (repeatable).",
)
@progress_option
def command(
    source: Path,
    image: ImageRef,
    compression: str,
    mtime: int | None,
    reproducible: bool,
    annotations: dict[str, str],
    progress: bool | None,
) -> None:
    """Import a directory or a tarball as a one-layer image.

    SOURCE is a directory or a tar archive (plain, gzip or zstd). The layer is a
    deterministic tar (sorted entries; owners, modes, xattrs, links and device nodes kept);
    the config records the host's os/architecture, the layer's diff_id and a history entry.
    The layout is created if it does not exist. Prints the new manifest's digest.
    """
    from porter_image.importer import (
        ImportOptions,
        import_image,
    )  # imported late: keeps start-up of other commands fast

    options = ImportOptions(
        compression=compression_name(compression),
        mtime=fixed_mtime(mtime, reproducible),
        annotations=annotations,
    )
    assert image.tag is not None
    descriptor = import_image(image.layout, image.tag, source, options, progress_for(progress))
    click.echo(str(descriptor.digest))
