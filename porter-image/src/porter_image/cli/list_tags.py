"""`porter-image list-tags docker://HOST/REPO`."""

from __future__ import annotations

from typing import Any

import click

from porter_image.cli.options import format_option, print_json
from porter_image.cli.registry_options import REGISTRY_REPOSITORY, options_from, registry_options
from porter_image.endpoints.registry import open_repository
from porter_image.reference import DockerReference


@click.command("list-tags")
@click.argument("repository", type=REGISTRY_REPOSITORY, metavar="docker://HOST/REPO")
@registry_options
@format_option
def command(repository: DockerReference, output_format: str, **kwargs: Any) -> None:
    """List the tags of a registry repository (every page of them)."""
    repo = open_repository(repository, options_from(kwargs))
    try:
        tags = repo.tags()
    finally:
        repo.client.close()
    if output_format == "json":
        print_json({"Repository": repository.name, "Tags": tags})
    else:
        for tag in tags:
            click.echo(tag)
