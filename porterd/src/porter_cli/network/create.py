"""porter network create."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client


@click.command("create")
@click.option(
    "-d", "--driver", default="bridge", show_default=True, help="Driver to manage the Network"
)
@click.option(
    "--subnet", multiple=True, help="Subnet in CIDR format that represents a network segment"
)
@click.option("--gateway", multiple=True, help="IPv4 or IPv6 Gateway for the master subnet")
@click.option("--ip-range", multiple=True, help="Allocate container ip from a sub-range")
@click.option("--internal", is_flag=True, help="Restrict external access to the network")
@click.option("--attachable", is_flag=True, help="Enable manual container attachment")
@click.option("--ipv6", is_flag=True, help="Enable IPv6 networking")
@click.option("--label", multiple=True, metavar="KEY=VALUE", help="Set metadata on a network")
@click.option("-o", "--opt", multiple=True, metavar="KEY=VALUE", help="Set driver specific options")
@click.argument("name")
def command(
    driver: str,
    subnet: tuple[str, ...],
    gateway: tuple[str, ...],
    ip_range: tuple[str, ...],
    internal: bool,
    attachable: bool,
    ipv6: bool,
    label: tuple[str, ...],
    opt: tuple[str, ...],
    name: str,
) -> None:
    """Create a network."""
    from porter_cli.container.parsing import key_values

    body = {
        "Name": name,
        "Driver": driver,
        "Internal": internal,
        "Attachable": attachable,
        "EnableIPv6": ipv6,
        "IPAM": {"Driver": "default", "Config": ipam_configs(subnet, gateway, ip_range)},
        "Options": key_values("--opt", opt),
        "Labels": key_values("--label", label),
    }
    click.echo(client().post_json("/networks/create", body=body)["Id"])


def ipam_configs(
    subnets: tuple[str, ...], gateways: tuple[str, ...], ranges: tuple[str, ...]
) -> list[dict[str, Any]]:
    """One IPAM config per --subnet, with the --gateway and --ip-range of its family, as the
    docker CLI pairs them (a gateway or range without a subnet is refused)."""
    import ipaddress

    configs = []
    for subnet in subnets:
        try:
            network = ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            raise click.BadParameter(
                f"invalid subnet {subnet!r}", param_hint="'--subnet'"
            ) from None
        config = {"Subnet": subnet}
        for key, values in (("Gateway", gateways), ("IPRange", ranges)):
            mine = [v for v in values if _inside(v, network)]
            if mine:
                config[key] = mine[0]
        configs.append(config)
    for hint, values in (("--gateway", gateways), ("--ip-range", ranges)):
        placed = {c.get("Gateway" if hint == "--gateway" else "IPRange") for c in configs}
        for value in values:
            if value not in placed:
                raise click.BadParameter(f"no matching subnet for {value}", param_hint=f"'{hint}'")
    return configs


def _inside(value: str, network: Any) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_network(value, strict=False).subnet_of(network)
    except (ValueError, TypeError):
        return False
