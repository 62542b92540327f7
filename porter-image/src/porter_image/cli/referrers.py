"""`porter-image referrers IMAGE` (a registry, a layout or an oci-archive)."""

from __future__ import annotations

from typing import Any

import click

from porter_image.cli.options import format_option, print_json
from porter_image.cli.registry_options import IMAGE_NAME, options_from, registry_options
from porter_image.referrers import list_referrers
from porter_image.transport import ImageName


@click.command("referrers")
@click.argument("image", type=IMAGE_NAME, metavar="IMAGE")
@click.option("--artifact-type", default="", help="Only referrers of this artifact type.")
@registry_options
@format_option
def command(image: ImageName, artifact_type: str, output_format: str, **kwargs: Any) -> None:
    """List the artifacts (signatures, SBOMs, ...) whose subject is the image.

    IMAGE is docker://HOST/REPO[:TAG|@DIGEST], oci:LAYOUT[:TAG|@DIGEST] or
    oci-archive:FILE[:TAG]. A registry is asked through its referrers API, and the tag schema
    (`sha256-<hex>`) on registries that lack it; a layout's referrers are the manifests its
    index.json lists whose subject is the image.
    """
    found = list_referrers(image, options_from(kwargs), artifact_type)
    if output_format == "json":
        print_json([d.to_json() for d in found])
        return
    for d in found:
        click.echo(f"{d.digest}  {d.artifact_type or '-'}  {d.media_type}  {d.size}")
