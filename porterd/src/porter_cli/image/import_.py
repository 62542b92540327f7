"""porter import / porter image import: a filesystem tarball as a one-layer image."""

from __future__ import annotations

import click

from porter_cli.command import client
from porter_cli.download import read_upload


@click.command("import")
@click.option("-c", "--change", multiple=True, help="Apply a Dockerfile instruction to the image")
@click.option("-m", "--message", help="Set commit message for imported image")
@click.option("--platform", help="Set platform if server is multi-platform capable")
@click.argument("source")
@click.argument("repository", required=False)
def command(
    change: tuple[str, ...],
    message: str | None,
    platform: str | None,
    source: str,
    repository: str | None,
) -> None:
    """Import the contents from a tarball (a file, or - for STDIN) to create an image."""
    from porter_cli.client.stream import json_messages
    from porter_cli.image.naming import repo_tag_params
    from porter_cli.progress import display

    params: dict[str, object] = {
        "fromSrc": "-",
        "changes": list(change),
        "message": message,
        "platform": platform,
        **repo_tag_params(repository),
    }
    if source.startswith(("http://", "https://")):
        params["fromSrc"] = source
        response = client().request("POST", "/images/create", params)
    else:
        with read_upload(None if source == "-" else source) as chunks:
            response = client().request("POST", "/images/create", params, data=chunks)
    for message_ in display(json_messages(response.iter_chunks()), quiet=True):
        if message_.get("status"):
            click.echo(message_["status"])
