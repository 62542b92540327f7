"""`porter-image unpack LAYOUT:TAG DIR`."""

from __future__ import annotations

import os
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
    "--rootless",
    is_flag=True,
    help="Write a config.json for a user namespace mapping container root to the calling "
    "user (as umoci --rootless): no network namespace, the host's /sys bound, no cgroups.",
)
@progress_option
def command(
    image: ImageRef,
    bundle: Path,
    platform: Platform | None,
    rootless: bool,
    progress: bool | None,
) -> None:
    """Unpack an image into DIR, an OCI runtime bundle: DIR/rootfs and DIR/config.json.

    DIR must not exist or be empty (as with umoci). The layers are applied in order with
    their whiteouts; modes, owners (when root), xattrs, links, device nodes (when root) and
    times are kept. config.json is converted from the image config as umoci does: args are
    Entrypoint + Cmd, env and cwd come from the image, the user is resolved in the rootfs's
    /etc/passwd and /etc/group, the config's fields become org.opencontainers.image.*
    annotations, volumes become tmpfs mounts, and the rest is `runc spec`'s defaults.
    `runc run -b DIR ID` runs it. DIR also receives porter-image.json (which manifest was
    unpacked) and porter-image.mtree.json.gz, the listing of the tree (types, modes, owners,
    sizes, times, links, inodes) that `repack` compares the modified tree with.
    """
    from porter_image.unpack import (
        unpack_image,
    )  # imported late: keeps start-up of other commands fast

    layout = Layout.open(image.layout)
    assert image.tag is not None
    unpacked = unpack_image(
        layout,
        image.tag,
        bundle,
        platform,
        progress=progress_for(progress),
        rootless_ids=(os.geteuid(), os.getegid()) if rootless else None,
    )
    click.echo(f"unpacked {image} ({unpacked.descriptor.digest}) into {bundle / 'rootfs'}")
