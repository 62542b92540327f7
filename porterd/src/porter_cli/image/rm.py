"""porter rmi / porter image rm: remove images (untag, and delete what no tag holds)."""

from __future__ import annotations

import click

from porter_cli.command import client, each


@click.command("rmi")
@click.option("-f", "--force", is_flag=True, help="Force removal of the image")
@click.option("--no-prune", is_flag=True, help="Do not delete untagged parents")
@click.argument("images", nargs=-1, required=True)
def command(force: bool, no_prune: bool, images: tuple[str, ...]) -> None:
    """Remove one or more images."""
    from porter_cli.client.api import path_part

    def remove(name: str) -> str:
        params = {"force": force or None, "noprune": no_prune or None}
        removed = client().delete(f"/images/{path_part(name)}", params) or []
        return "\n".join(
            f"{key}: {item[key]}"
            for item in removed
            for key in ("Untagged", "Deleted")
            if item.get(key)
        )

    each(images, remove, echo_name=False)
