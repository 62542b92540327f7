"""`porter-image delete docker://HOST/REPO:TAG|@DIGEST`."""

from __future__ import annotations

from typing import Any

import click

from porter_image.cli.registry_options import REGISTRY_IMAGE, options_from, registry_options
from porter_image.endpoints.registry import open_repository
from porter_image.reference import DockerReference


@click.command("delete")
@click.argument("image", type=REGISTRY_IMAGE, metavar="docker://HOST/REPO[:TAG|@DIGEST]")
@registry_options
def command(image: DockerReference, **kwargs: Any) -> None:
    """Delete an image's manifest from a registry (a tag is resolved to its digest first,
    so every tag naming the same manifest goes with it, as with skopeo delete)."""
    repo = open_repository(image, options_from(kwargs))
    try:
        descriptor = repo.resolve(image.identifier)
        repo.delete_manifest(descriptor.digest)
    finally:
        repo.client.close()
    click.echo(f"Deleted {image.name}@{descriptor.digest}")
