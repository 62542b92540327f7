"""porter load / porter image load: images from a tar archive."""

from __future__ import annotations

import sys

import click

from porter_cli.command import client
from porter_cli.download import read_upload


@click.command("load")
@click.option("-i", "--input", "input_", help="Read from tar archive file, instead of STDIN")
@click.option("-q", "--quiet", is_flag=True, help="Suppress the load output")
def command(input_: str | None, quiet: bool) -> None:
    """Load an image from a tar archive or STDIN."""
    from porter_cli.client.stream import json_messages
    from porter_cli.errors import CliError
    from porter_cli.progress import display

    if input_ is None and sys.stdin.isatty():
        raise CliError("requested load from stdin, but stdin is empty (use -i FILE or a pipe)")
    with read_upload(input_) as chunks:
        response = client().request("POST", "/images/load", {"quiet": quiet}, data=chunks)
        display(json_messages(response.iter_chunks()), quiet=False)
