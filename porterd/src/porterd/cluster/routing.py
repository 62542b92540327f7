"""The routing mesh as pure functions: which replicas each published port of each service
reaches from a node, and the nftables chains that balance connections over them.

A service's published port (EndpointSpec.Ports, ingress mode) is open on every node. Each
task container publishes its target port on its own node at an ephemeral host port, which
its agent reports in the task's `Status.PortStatus` (docker's shape for host-mode ports). A
node then sends the port's connections, in turn (`numgen inc mod N`), to its own replicas
straight at their container address and to the other nodes' replicas at NODE-ADDR:HOST-PORT,
where that node's published-port rule takes them on to the container.

A task is in rotation while it should run and runs, is healthy if it has a health check
(the rule rolling updates wait for) and its node is ready: one that fails its health check,
exits, or is being shut down (a rolling update's old task) leaves at the next round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from porterd.cluster.updates import is_up
from porterd.network.firewall import MESH_MARK

PROTOCOLS = ("tcp", "udp")  # what nftables' dnat to ADDR:PORT takes here


@dataclass(frozen=True, order=True)
class Backend:
    address: str
    port: int


@dataclass(frozen=True)
class MeshPort:
    """One published port of one service, and the replicas it reaches from this node."""

    protocol: str
    published: int
    service_id: str
    backends: tuple[Backend, ...]

    @property
    def counter(self) -> str:
        """The name of its nftables counter of new connections."""
        return f"mesh_{self.protocol}_{self.published}"


def ingress_ports(endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    """The ports of a service's EndpointSpec that the mesh publishes on every node."""
    return [
        port
        for port in endpoint.get("Ports") or []
        if port.get("PublishedPort")
        and port.get("PublishMode", "ingress") == "ingress"
        and port.get("Protocol", "tcp") in PROTOCOLS
    ]


def host_port(task: dict[str, Any], protocol: str, target: int) -> int | None:
    """The host port at which the task's container publishes `target`, as its agent saw it."""
    for port in task["Status"].get("PortStatus", {}).get("Ports") or []:
        if port.get("Protocol") == protocol and port.get("TargetPort") == target:
            return int(port["PublishedPort"])
    return None


def in_rotation(task: dict[str, Any], ready: set[str]) -> bool:
    return task.get("DesiredState") == "running" and task["NodeID"] in ready and is_up(task)


def mesh_ports(
    services: Iterable[dict[str, Any]],
    tasks: Iterable[dict[str, Any]],
    nodes: Iterable[dict[str, Any]],
    node_id: str,
    local_address: Callable[[str], str | None],
) -> list[MeshPort]:
    """Every published port of every service, with its backends as seen from `node_id`;
    `local_address(container_id)` gives the IPv4 address of one of this node's containers."""
    addresses = {
        node["ID"]: node.get("Addr", "")
        for node in nodes
        if node.get("Status", {}).get("State") == "ready"
    }
    ready = set(addresses)
    by_service: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        if in_rotation(task, ready):
            by_service.setdefault(task["ServiceID"], []).append(task)
    found = []
    for service in services:
        for port in ingress_ports(service["Spec"].get("EndpointSpec", {})):
            protocol, target = port.get("Protocol", "tcp"), int(port["TargetPort"])
            backends = set()
            for task in by_service.get(service["ID"], []):
                if task["NodeID"] == node_id:
                    container = task["Status"].get("ContainerStatus", {}).get("ContainerID", "")
                    address = local_address(container) if container else None
                    backend = Backend(address, target) if address else None
                else:
                    published = host_port(task, protocol, target)
                    address = addresses[task["NodeID"]]
                    backend = Backend(address, published) if published and address else None
                if backend is not None and ":" not in backend.address:
                    backends.add(backend)
            found.append(
                MeshPort(
                    protocol, int(port["PublishedPort"]), service["ID"], tuple(sorted(backends))
                )
            )
    return sorted(found, key=lambda port: (port.protocol, port.published))


def render(ports: Sequence[MeshPort]) -> str:
    """The mesh's nftables chains (for porterd.network.firewall.render): a counter of new
    connections per port, and a `chain mesh` dispatching each port's connections in turn to a
    chain per backend that translates them. A port without backends only counts: nothing
    listens there, so its connections are refused."""
    if not ports:
        return ""
    lines = [f"  counter {port.counter} {{ }}" for port in ports]
    lines.append("  chain mesh {")
    for port in ports:
        rule = (
            f"    meta nfproto ipv4 {port.protocol} dport {port.published}"
            f' counter name "{port.counter}"'
        )
        if port.backends:
            targets = ", ".join(
                f"{index} : goto {port.counter}_{index}" for index in range(len(port.backends))
            )
            rule += (
                f" ct mark set {MESH_MARK:#x}"
                f" numgen inc mod {len(port.backends)} vmap {{ {targets} }}"
            )
        lines.append(rule)
    lines.append("  }")
    for port in ports:
        for index, backend in enumerate(port.backends):
            lines += [
                f"  chain {port.counter}_{index} {{",
                f"    meta l4proto {port.protocol} dnat ip to {backend.address}:{backend.port}",
                "  }",
            ]
    return "\n".join(lines) + "\n"
