"""porter pull / porter image pull: fetch an image from a registry."""

from __future__ import annotations

import sys
from typing import TextIO

import click

from porter_cli.command import client


def pull_image(
    name: str, platform: str | None = None, quiet: bool = False, out: TextIO | None = None
) -> None:
    """Pull `name` through the daemon, showing its progress on `out` (stdout by default, and
    then the name pulled, as docker pull ends)."""
    from porter_cli.client.stream import json_messages
    from porter_cli.image.naming import auth_header, parse_reference
    from porter_cli.progress import display

    ref = parse_reference(name)
    params = {"fromImage": ref.repository, "tag": ref.version, "platform": platform}
    response = client().request("POST", "/images/create", params, headers=auth_header(ref))
    display(json_messages(response.iter_chunks()), out or sys.stdout, quiet)
    if out is None:
        click.echo(str(ref))


@click.command("pull")
@click.argument("name")
@click.option("-q", "--quiet", is_flag=True, help="Suppress verbose output")
@click.option("--platform", help="Set platform if server is multi-platform capable (os/arch)")
def command(name: str, quiet: bool, platform: str | None) -> None:
    """Download an image from a registry."""
    pull_image(name, platform, quiet)
