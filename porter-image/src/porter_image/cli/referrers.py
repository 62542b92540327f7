"""`porter-image referrers docker://HOST/REPO[:TAG|@DIGEST]`."""

from __future__ import annotations

from typing import Any

import click

from porter_image.cli.options import format_option, print_json
from porter_image.cli.registry_options import REGISTRY_IMAGE, options_from, registry_options
from porter_image.endpoints.registry import open_repository
from porter_image.reference import DockerReference


@click.command("referrers")
@click.argument("image", type=REGISTRY_IMAGE, metavar="docker://HOST/REPO[:TAG|@DIGEST]")
@click.option("--artifact-type", default="", help="Only referrers of this artifact type.")
@registry_options
@format_option
def command(image: DockerReference, artifact_type: str, output_format: str, **kwargs: Any) -> None:
    """List the artifacts (signatures, SBOMs, ...) whose subject is the image.

    Uses the registry's referrers API, and the tag schema (`sha256-<hex>`) on registries
    that lack it.
    """
    repo = open_repository(image, options_from(kwargs))
    try:
        descriptor = repo.resolve(image.identifier)
        found = repo.referrers(descriptor.digest, artifact_type)
    finally:
        repo.client.close()
    if output_format == "json":
        print_json([d.to_json() for d in found])
        return
    for d in found:
        click.echo(f"{d.digest}  {d.artifact_type or '-'}  {d.media_type}  {d.size}")
