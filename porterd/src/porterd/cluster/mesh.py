"""The routing mesh every node runs: each round it reads the services, tasks and nodes from
the store, works out each published port's backends (porterd.cluster.routing) and, only
when they changed, has porterd's firewall apply the new chains. A round runs when an etcd
watch sees a service, a task or a node change (what wakes the reconciler), every
REPORT_EVERY seconds while a port is published, and otherwise as the loops' safety net.

It holds each published port bound on the node (as docker-proxy does), so that a plain
container cannot publish it too; a port some container of the node publishes already is
left to that container, logged and reported.

It also counts each port's new connections (nftables counters) and reports them every
REPORT_EVERY seconds to the store as connections per second per service of this node,
PREFIX/load/NODE, with the host ports its containers hold: `service_rps` sums the fresh
reports for the reconciler's autoscaling, and `refuse_taken_ports` turns down a service
that would publish a port a container holds on some node.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any, Protocol

from porterd.cluster import routing
from porterd.cluster.etcd import WatchEvent
from porterd.cluster.loop import SAFETY_INTERVAL, Periodic
from porterd.cluster.store import ClusterStore
from porterd.cluster.wake import StoreWatch, concerns
from porterd.errors import DaemonError, InvalidParameter

log = logging.getLogger(__name__)

REPORT_EVERY = 2.0  # seconds between load reports
FRESH_FOR = 10.0  # seconds a node's load report counts


class MeshHost(Protocol):
    """What the mesh needs of its porterd."""

    def apply_mesh(self, chains: str) -> None:
        """Apply the mesh's chains with the rest of porterd's rules ("" removes them)."""
        ...

    def container_address(self, container_id: str) -> str | None:
        """The IPv4 address of one of this node's containers, None if it has none."""
        ...

    def counters(self) -> dict[str, int]:
        """The packets each named counter of porterd's table has counted."""
        ...

    def allow_loopback_to(self, address: str) -> None:
        """Let connections from 127.0.0.1 translated to `address` leave (route_localnet)."""
        ...

    def held_ports(self) -> set[tuple[str, int]]:
        """(protocol, host port) of each port this node's containers publish."""
        ...


class NetworkMeshHost:
    """A MeshHost over porterd's network service."""

    def __init__(self, networks: Any) -> None:
        self.networks = networks
        self._allowed: set[str] = set()

    def apply_mesh(self, chains: str) -> None:
        self.networks.set_mesh(chains)

    def container_address(self, container_id: str) -> str | None:
        return self.networks.container_address(container_id) or None

    def counters(self) -> dict[str, int]:
        from porterd.network import firewall

        return {name: packets for name, (packets, _) in firewall.counters().items()}

    def held_ports(self) -> set[tuple[str, int]]:
        return {(b.protocol, b.host_port) for b in self.networks.ports.bindings()}

    def allow_loopback_to(self, address: str) -> None:
        if address in self._allowed:
            return
        from porterd.network.links import set_sysctl

        route = subprocess.run(
            ["ip", "-o", "route", "get", address], capture_output=True, text=True, check=False
        ).stdout.split()
        if "dev" in route:
            device = route[route.index("dev") + 1]
            set_sysctl(f"net/ipv4/conf/{device}/route_localnet", "1")
            self._allowed.add(address)


class ConnectionRates:
    """Connections per second per counter, from readings of counters. A firewall swap carries
    their counts over (porterd.network.firewall.apply); a reading below the last one (a
    table made afresh, as when porterd starts again) counts from zero."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}
        self._at: float | None = None

    def update(self, readings: dict[str, int], at: float) -> dict[str, float]:
        elapsed = None if self._at is None else at - self._at
        rates = {}
        for name, packets in readings.items():
            before = self._last.get(name)
            if elapsed and elapsed > 0 and before is not None:
                rates[name] = (packets - before if packets >= before else packets) / elapsed
        self._last, self._at = dict(readings), at
        return rates


def service_rps(store: ClusterStore, service_id: str, now: float | None = None) -> float | None:
    """Connections per second to a service's published ports over every node that reported
    in the last FRESH_FOR seconds; None when no node did."""
    now = time.time() if now is None else now
    total, fresh = 0.0, False
    for kv in store.etcd.prefix(store.key("load", "")):
        report = kv.json()
        if now - report.get("At", 0) <= FRESH_FOR:
            fresh = True
            total += report.get("Rates", {}).get(service_id, 0.0)
    return total if fresh else None


def refuse_taken_ports(
    store: ClusterStore,
    spec: dict[str, Any],
    now: float | None = None,
    *,
    current: dict[str, Any] | None = None,
) -> None:
    """`InvalidParameter` if a port `spec` publishes through the mesh is held by a container
    on a node that reported in the last FRESH_FOR seconds; for an update, only the ports that
    the service's `current` spec does not publish already (its own it holds itself)."""
    wanted = _mesh_ports(spec) - (_mesh_ports(current) if current is not None else set())
    if not wanted:
        return
    now = time.time() if now is None else now
    for kv in store.etcd.prefix(store.key("load", "")):
        report = kv.json()
        if now - report.get("At", 0) > FRESH_FOR:
            continue
        for protocol, port in sorted(wanted):
            if f"{port}/{protocol}" in report.get("Taken", []):
                node = kv.key.rsplit("/", 1)[1]
                names = {n["ID"]: n["Description"]["Hostname"] for n in store.nodes()}
                raise InvalidParameter(
                    f"port {port}/{protocol} is already published by a container on node"
                    f" {names.get(node, node)!r}"
                )


def _mesh_ports(spec: dict[str, Any]) -> set[tuple[str, int]]:
    return {
        (port.get("Protocol", "tcp"), int(port["PublishedPort"]))
        for port in routing.ingress_ports(spec.get("EndpointSpec", {}))
    }


class RoutingMesh:
    def __init__(
        self,
        store: ClusterStore,
        node_id: str,
        host: MeshHost,
        *,
        interval: float = SAFETY_INTERVAL,
        clock: Callable[[], float] = time.time,
        watch: StoreWatch | None = None,
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.host = host
        self.clock = clock
        self._chains: str | None = None
        self._held: dict[tuple[str, int], socket.socket] = {}
        self._taken: dict[tuple[str, int], str] = {}  # ports a container of this node holds
        self._rates = ConnectionRates()
        self._reported = 0.0
        self._loop = Periodic("cluster-mesh", self.sync_once, interval)
        self._watch = watch or StoreWatch(store.etcd, store.prefix)
        self._watch.subscribe(self._changed, self._loop.wake)

    def sync_once(self) -> None:
        ports = routing.mesh_ports(
            self.store.services(),
            self.store.tasks(),
            self.store.nodes(),
            self.node_id,
            self.host.container_address,
        )
        ports = [port for port in ports if self._hold(port.protocol, port.published)]
        for key in set(self._held) - {(port.protocol, port.published) for port in ports}:
            self._held.pop(key).close()
        for address in {backend.address for port in ports for backend in port.backends}:
            self.host.allow_loopback_to(address)
        chains = routing.render(ports)
        if chains != self._chains:
            self.host.apply_mesh(chains)
            self._chains = chains
            log.info("routing mesh: %s", _summary(ports) or "no published port")
        if self.clock() - self._reported >= REPORT_EVERY:
            self._report(ports)
        if ports:
            self._loop.wake_in(REPORT_EVERY)

    def _changed(self, event: WatchEvent) -> None:
        """A change in the store: a round if it is one the reconciler acts on too."""
        if concerns(event, self.store.prefix, self.node_id)[0]:
            self._loop.wake()

    def _hold(self, protocol: str, port: int) -> bool:
        """Whether this node holds the port for the mesh (bound now if it was not)."""
        key = (protocol, port)
        if key in self._held:
            return True
        bound = socket.socket(
            socket.AF_INET, socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
        )
        try:
            bound.bind(("0.0.0.0", port))
        except OSError as error:
            bound.close()
            if key not in self._taken:
                log.warning("routing mesh: port %d/%s is taken on this node: %s", port, protocol,
                            error.strerror)  # fmt: skip
            self._taken[key] = f"port {port}/{protocol} is taken on this node: {error.strerror}"
            return False
        self._taken.pop(key, None)
        self._held[key] = bound
        return True

    def _report(self, ports: list[routing.MeshPort]) -> None:
        at = self.clock()
        rates = self._rates.update(self.host.counters(), at)
        by_service: dict[str, float] = {}
        for port in ports:
            rate = rates.get(port.counter)
            if rate is not None:
                by_service[port.service_id] = by_service.get(port.service_id, 0.0) + rate
        report = {
            "At": at,
            "Rates": by_service,
            "Taken": sorted(f"{port}/{protocol}" for protocol, port in self.host.held_ports()),
            "Conflicts": sorted(self._taken.values()),
        }
        self.store.etcd.put(self.store.key("load", self.node_id), json.dumps(report))
        self._reported = at

    def start(self) -> None:
        self._loop.start()
        self._watch.start()

    def stop(self) -> None:
        """The mesh's rules and ports go (the services' containers keep running)."""
        self._watch.stop()
        self._loop.stop()
        for bound in self._held.values():
            bound.close()
        self._held.clear()
        try:
            self.host.apply_mesh("")
        except DaemonError as error:
            log.warning("routing mesh: removing its rules failed: %s", error)


def _summary(ports: list[routing.MeshPort]) -> str:
    return "; ".join(
        f"{port.published}/{port.protocol} -> "
        + (", ".join(f"{b.address}:{b.port}" for b in port.backends) or "none")
        for port in ports
    )
