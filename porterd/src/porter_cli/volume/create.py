"""porter volume create."""

from __future__ import annotations

import click

from porter_cli.command import client


@click.command("create")
@click.option(
    "-d", "--driver", default="local", show_default=True, help="Specify volume driver name"
)
@click.option("-o", "--opt", multiple=True, metavar="KEY=VALUE", help="Set driver specific options")
@click.option("--label", multiple=True, metavar="KEY=VALUE", help="Set metadata for a volume")
@click.argument("name", required=False)
def command(driver: str, opt: tuple[str, ...], label: tuple[str, ...], name: str | None) -> None:
    """Create a volume (named NAME, or with a generated name)."""
    from porter_cli.container.parsing import key_values

    body = {
        "Name": name or "",
        "Driver": driver,
        "DriverOpts": key_values("--opt", opt),
        "Labels": key_values("--label", label),
    }
    click.echo(client().post_json("/volumes/create", body=body)["Name"])
