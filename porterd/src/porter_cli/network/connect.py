"""porter network connect."""

from __future__ import annotations

import click

from porter_cli.command import client


@click.command("connect")
@click.option("--alias", multiple=True, help="Add network-scoped alias for the container")
@click.option("--ip", default="", help="IPv4 address (e.g. 172.30.100.104)")
@click.option("--ip6", default="", help="IPv6 address (e.g. 2001:db8::33)")
@click.argument("network")
@click.argument("container")
def command(alias: tuple[str, ...], ip: str, ip6: str, network: str, container: str) -> None:
    """Connect a container to a network."""
    from porter_cli.client.api import path_part

    addresses = {k: v for k, v in (("IPv4Address", ip), ("IPv6Address", ip6)) if v}
    endpoint = {"Aliases": list(alias) or None, "IPAMConfig": addresses or None}
    body = {"Container": container, "EndpointConfig": endpoint}
    client().request("POST", f"/networks/{path_part(network)}/connect", body=body).close()
