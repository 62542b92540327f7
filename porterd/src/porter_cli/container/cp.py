"""porter cp / porter container cp: copy files between a container and the local filesystem,
through the archive endpoints (GET/HEAD/PUT /containers/ID/archive), with docker's rules for
where a copy lands."""

from __future__ import annotations

import click

from porter_cli.command import client
from porter_cli.errors import CliError


def split_target(arg: str) -> tuple[str | None, str]:
    """ "NAME:PATH" -> (NAME, PATH); a local path (absolute or ./) -> (None, PATH)."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return None, arg
    name, _, path = arg.partition(":")
    return name, path


@click.command("cp")
@click.option("-a", "--archive", is_flag=True, help="Archive mode (copy all uid/gid information)")
@click.option("-L", "--follow-link", is_flag=True, help="Always follow symbol link in SRC_PATH")
@click.argument("source")
@click.argument("destination")
def command(archive: bool, follow_link: bool, source: str, destination: str) -> None:
    """Copy files/folders between a container and the local filesystem.

    porter cp CONTAINER:SRC_PATH DEST_PATH|-
    porter cp SRC_PATH|- CONTAINER:DEST_PATH
    """
    from porter_cli.container import copying

    src_container, src_path = split_target(source)
    dst_container, dst_path = split_target(destination)
    if (src_container is None) == (dst_container is None):
        raise CliError(
            "give exactly one container path (CONTAINER:PATH), as the source or the destination"
        )
    if src_container is not None:
        copying.copy_from(client(), src_container, src_path, dst_path)
    else:
        copying.copy_to(client(), dst_container or "", dst_path, src_path)
