"""Networks and a container's network settings in the Engine API's JSON shapes."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from porterd.network.definitions import PSEUDO_NETWORKS
from porterd.network.records import Endpoint, NetworkRecord

if TYPE_CHECKING:
    from porterd.network.service import NetworkService

PSEUDO_DRIVERS = {"host": "host", "none": "null"}


def pseudo_id(name: str) -> str:
    return hashlib.sha256(f"porterd-network-{name}".encode()).hexdigest()


def pseudo_network(name: str, created: str) -> dict[str, Any]:
    return {
        "Name": name,
        "Id": pseudo_id(name),
        "Created": created,
        "Scope": "local",
        "Driver": PSEUDO_DRIVERS[name],
        "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None, "Config": []},
        "Internal": False,
        "Attachable": False,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": {},
        "Options": {},
        "Labels": {},
    }


def network_json(network: NetworkRecord, endpoints: list[Endpoint] | None = None) -> dict[str, Any]:
    return {
        "Name": network.name,
        "Id": network.id,
        "Created": network.created,
        "Scope": "swarm" if network.driver == "overlay" else "local",
        "Driver": network.driver,
        "EnableIPv6": network.enable_ipv6,
        "IPAM": {
            "Driver": "default",
            "Options": {},
            "Config": [r for r in (network.ipv4, network.ipv6) if r],
        },
        "Internal": network.internal,
        "Attachable": network.attachable,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": {
            endpoint.container_id: {
                "Name": endpoint.name,
                "EndpointID": endpoint.id,
                "MacAddress": endpoint.mac,
                "IPv4Address": endpoint.ipv4,
                "IPv6Address": endpoint.ipv6,
            }
            for endpoint in endpoints or []
        },
        "Options": network.options,
        "Labels": network.labels,
    }


def all_networks(service: NetworkService) -> list[dict[str, Any]]:
    """Every network with its endpoints, the pseudo ones (`host`, `none`) included."""
    records = service.networks()
    created = min((n.created for n in records), default="0001-01-01T00:00:00Z")
    return [
        *(network_json(n, service.endpoints_on(n.id)) for n in records),
        *(pseudo_network(name, created) for name in PSEUDO_NETWORKS),
    ]


def endpoint_settings(network: NetworkRecord, endpoint: Endpoint) -> dict[str, Any]:
    ipv4, _, v4_prefix = endpoint.ipv4.partition("/")
    ipv6, _, v6_prefix = endpoint.ipv6.partition("/")
    gateways = {r.subnet.version: str(r.gateway) for r in network.ranges}
    return {
        "IPAMConfig": endpoint.static or None,
        "Links": None,
        "Aliases": endpoint.aliases or None,
        "NetworkID": network.id,
        "EndpointID": endpoint.id,
        "Gateway": gateways.get(4, ""),
        "IPAddress": ipv4,
        "IPPrefixLen": int(v4_prefix or 0),
        "IPv6Gateway": gateways.get(6, "") if ipv6 else "",
        "GlobalIPv6Address": ipv6,
        "GlobalIPv6PrefixLen": int(v6_prefix or 0),
        "MacAddress": endpoint.mac,
        "DriverOpts": None,
    }


def network_settings(service: NetworkService, container_id: str, mode: str) -> dict[str, Any]:
    """A container's `NetworkSettings` as `docker inspect` shows it."""
    networks = {
        network.name: endpoint_settings(network, endpoint)
        for network, endpoint in service.endpoints_of(container_id)
    }
    if mode in PSEUDO_NETWORKS:
        networks = {mode: {"NetworkID": pseudo_id(mode), "EndpointID": "", "IPAddress": ""}}
    ports: dict[str, Any] = {}
    for binding in service.published(container_id):
        key = f"{binding.container_port}/{binding.protocol}"
        ports.setdefault(key, []).append(
            {"HostIp": binding.host_ip or "0.0.0.0", "HostPort": str(binding.host_port)}
        )
    primary = next(iter(networks.values()), {}) if mode not in PSEUDO_NETWORKS else {}
    netns = service.netns_path(container_id)
    return {
        "Bridge": "",
        "SandboxID": container_id if netns.exists() else "",
        "SandboxKey": str(netns) if netns.exists() else "",
        "HairpinMode": False,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "Ports": ports,
        "SecondaryIPAddresses": None,
        "SecondaryIPv6Addresses": None,
        "EndpointID": primary.get("EndpointID", ""),
        "Gateway": primary.get("Gateway", ""),
        "GlobalIPv6Address": primary.get("GlobalIPv6Address", ""),
        "GlobalIPv6PrefixLen": primary.get("GlobalIPv6PrefixLen", 0),
        "IPAddress": primary.get("IPAddress", ""),
        "IPPrefixLen": primary.get("IPPrefixLen", 0),
        "IPv6Gateway": primary.get("IPv6Gateway", ""),
        "MacAddress": primary.get("MacAddress", ""),
        "Networks": networks,
    }


def add_to_summary(service: NetworkService, document: dict[str, Any]) -> None:
    """A `GET /containers/json` entry gets its published ports and networks (`docker ps`)."""
    container_id = document["Id"]
    document["Ports"] = [
        {
            "IP": binding.host_ip or "0.0.0.0",
            "PrivatePort": binding.container_port,
            "PublicPort": binding.host_port,
            "Type": binding.protocol,
        }
        for binding in service.published(container_id)
    ]
    mode = document.get("HostConfig", {}).get("NetworkMode") or "default"
    networks = network_settings(service, container_id, mode)["Networks"]
    document.setdefault("NetworkSettings", {})["Networks"] = networks
