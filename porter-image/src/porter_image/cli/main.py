"""porter-image's entry point: the command group and its subcommands (one module each)."""

from __future__ import annotations

import click

from porter_image.cli import (
    config,
    fsck,
    gc,
    import_,
    init,
    inspect,
    list_,
    repack,
    tag,
    unpack,
    untag,
    validate,
)
from porter_image.cli.errors import ErrorMappingGroup


@click.group(cls=ErrorMappingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="porter", prog_name="porter-image")
def cli() -> None:
    """porter-image: OCI image layouts, images and layers.

    An image is named LAYOUT:TAG everywhere, as with umoci and skopeo's oci: transport;
    a layout that does not exist yet is created by the first command that writes to it.
    """


for module in (
    init,
    import_,
    unpack,
    repack,
    config,
    inspect,
    validate,
    tag,
    untag,
    list_,
    gc,
    fsck,
):
    cli.add_command(module.command)


def main() -> None:
    cli(prog_name="porter-image")
