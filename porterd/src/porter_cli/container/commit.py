"""porter commit / porter container commit: a new image from a container's changes."""

from __future__ import annotations

import click

from porter_cli.command import client


@click.command("commit")
@click.option("-a", "--author", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
@click.option(
    "-c", "--change", multiple=True, help="Apply Dockerfile instruction to the created image"
)
@click.option("-m", "--message", help="Commit message")
@click.option("-p", "--pause/--no-pause", default=True, help="Pause container during commit")
@click.argument("container")
@click.argument("repository", required=False)
def command(
    author: str | None,
    change: tuple[str, ...],
    message: str | None,
    pause: bool,
    container: str,
    repository: str | None,
) -> None:
    """Create a new image from a container's changes."""
    from porter_cli.image.naming import repo_tag_params

    params: dict[str, object] = {
        "container": container,
        "author": author,
        "comment": message,
        "pause": pause,
        "changes": list(change),
        **repo_tag_params(repository),
    }
    result = client().post_json("/commit", params, body={}) or {}
    click.echo(result.get("Id", ""))
