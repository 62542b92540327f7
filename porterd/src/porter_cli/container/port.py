"""porter port / porter container port: the published ports of a container."""

from __future__ import annotations

import click

from porter_cli.command import client
from porter_cli.errors import CliError


@click.command("port")
@click.argument("container")
@click.argument("private_port", required=False)
def command(container: str, private_port: str | None) -> None:
    """List port mappings or a specific mapping for the container."""
    from porter_cli.client.api import path_part

    info = client().get_json(f"/containers/{path_part(container)}/json")
    ports = (info.get("NetworkSettings") or {}).get("Ports") or {}
    if private_port:
        key = private_port if "/" in private_port else f"{private_port}/tcp"
        bindings = ports.get(key)
        if not bindings:
            raise CliError(f"no public port '{key}' published for {container}")
        for binding in bindings:
            click.echo(f"{binding.get('HostIp') or '0.0.0.0'}:{binding.get('HostPort')}")
        return
    for key, bindings in sorted(ports.items()):
        for binding in bindings or []:
            click.echo(f"{key} -> {binding.get('HostIp') or '0.0.0.0'}:{binding.get('HostPort')}")
