"""A new network's definition: its name, subnets, gateway, range, bridge and options checked
and completed as dockerd does, without touching anything (the service records and makes it)."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence

from porterd.errors import Conflict, Forbidden, InvalidParameter
from porterd.network.ipam import AddressPool, Range, check_free, next_subnet, parse_subnet
from porterd.network.records import NetworkRecord

DEFAULT_NETWORK = "bridge"
DEFAULT_BRIDGE = "porter0"
PSEUDO_NETWORKS = ("host", "none")
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
ICC_OPTION = "com.docker.network.bridge.enable_icc"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")


def define_network(
    name: str,
    existing: Sequence[NetworkRecord],
    pools: Sequence[AddressPool],
    *,
    internal: bool,
    attachable: bool,
    enable_ipv6: bool,
    ipam: Sequence[dict[str, str]],
    labels: dict[str, str],
    options: dict[str, str],
) -> NetworkRecord:
    """The record of a new network beside `existing`; dockerd's errors for a bad request."""
    _check_name(name, existing)
    used = [parse_subnet(r["Subnet"]) for n in existing for r in (n.ipv4, n.ipv6) if r]
    ranges: dict[int, Range] = {}
    for config in ipam:
        if not config.get("Subnet"):
            raise InvalidParameter("an IPAM config needs a Subnet")
        subnet = parse_subnet(config["Subnet"])
        check_free(subnet, used)
        ranges[subnet.version] = Range.build(
            subnet, config.get("Gateway", ""), config.get("IPRange", "")
        )
    if enable_ipv6 and 6 not in ranges:
        raise InvalidParameter("IPv6 is enabled on this network but it has no IPv6 subnet")
    if 4 not in ranges:
        ranges[4] = Range.build(next_subnet(pools, used))
    network_id = secrets.token_hex(32)
    bridge = options.get(BRIDGE_NAME_OPTION) or f"br-{network_id[:12]}"
    if len(bridge) > 15 or any(n.bridge == bridge for n in existing):
        raise Conflict(f"bridge name {bridge} is invalid or in use")
    return NetworkRecord(
        id=network_id,
        name=name,
        bridge=bridge,
        created=now(),
        ipv4=ranges[4].to_json(),
        ipv6=ranges[6].to_json() if 6 in ranges and enable_ipv6 else {},
        internal=internal,
        attachable=attachable,
        icc=options.get(ICC_OPTION, "true").lower() != "false",
        labels=dict(labels),
        options=dict(options),
    )


def _check_name(name: str, existing: Sequence[NetworkRecord]) -> None:
    if not name:
        raise InvalidParameter("network name is empty")
    if name in PSEUDO_NETWORKS or name == DEFAULT_NETWORK:
        raise Forbidden(f"{name} is a pre-defined network and cannot be created")
    if "/" in name or ":" in name:
        raise InvalidParameter(f"invalid network name {name!r}")
    if any(n.name == name for n in existing):
        raise Conflict(f"network with name {name} already exists")
