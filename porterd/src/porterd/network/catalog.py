"""The networks porterd knows: their records, bridges and nftables rules.

The first layer of the network service (`service.NetworkService`): the networks' create,
inspect, remove and prune, the bridge of each, and the ruleset rendered from the records.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from porterd.clock import time_ns
from porterd.errors import Forbidden, NotFound
from porterd.labels import has_label
from porterd.network import firewall, links
from porterd.network.definitions import define_network
from porterd.network.ipam import DEFAULT_POOLS, AddressPool
from porterd.network.ports import PortReservations, proxied
from porterd.network.records import Endpoint, NetworkRecord, NetworkStore, find_network
from porterd.state import Database

if TYPE_CHECKING:
    from porterd.network.dns import EmbeddedDns


class NetworkCatalog:
    dns: EmbeddedDns  # made by the service, which answers its questions

    def __init__(
        self,
        *,
        database: Database,
        exec_root: Path,
        events: Any = None,
        default_address_pools: Sequence[str] = (),
        icc: bool = True,
        resolv_conf: Path = Path("/etc/resolv.conf"),
    ) -> None:
        self.store = NetworkStore(database)
        self.database = database
        self.events = events
        self.netns_root = Path(exec_root) / "netns"
        self.pools = [AddressPool.parse(p) for p in default_address_pools] or list(DEFAULT_POOLS)
        self.icc = icc
        self.resolv_conf = resolv_conf
        self.ports = PortReservations(Path(exec_root) / "proxies")
        self._applied = ""  # the ruleset nft holds, as porterd last rendered it
        self._mesh = ""  # the services' routing mesh chains (porterd.cluster.mesh)
        self._lock = threading.RLock()
        self.containers: Any = None  # set by the daemon: `.get(ref)` gives a container

    def networks(self) -> list[NetworkRecord]:
        return self.store.networks()

    def find(self, ref: str) -> NetworkRecord | None:
        return find_network(self.store.networks(), ref)

    def get(self, ref: str) -> NetworkRecord:
        network = self.find(ref)
        if network is None:
            raise NotFound(f"network {ref} not found")
        return network

    def create(
        self,
        name: str,
        *,
        internal: bool = False,
        attachable: bool = False,
        enable_ipv6: bool = False,
        ipam: Sequence[dict[str, str]] = (),
        labels: dict[str, str] | None = None,
        options: dict[str, str] | None = None,
    ) -> NetworkRecord:
        with self._lock:
            record = define_network(
                name,
                self.store.networks(),
                self.pools,
                internal=internal,
                attachable=attachable,
                enable_ipv6=enable_ipv6,
                ipam=ipam,
                labels=labels or {},
                options=options or {},
            )
            with self.database.transaction() as connection:
                self.store.add_network(connection, record)
            try:
                self._make_bridge(record)
                self._apply_rules()
            except Exception:
                with self.database.transaction() as connection:
                    self.store.delete_network(connection, record.id)
                links.delete_link(record.bridge)
                self._apply_rules()
                raise
        self._publish("create", record)
        return record

    def remove(self, ref: str) -> None:
        network = self.get(ref)
        if network.default:
            raise Forbidden(f"{network.name} is a pre-defined network and cannot be removed")
        with self._lock:
            users = self.store.endpoints(network_id=network.id)
            if users:
                raise Forbidden(
                    f"error while removing network: network {network.name} id {network.id}"
                    " has active endpoints"
                )
            with self.database.transaction() as connection:
                self.store.delete_network(connection, network.id)
            links.delete_link(network.bridge)
            self._apply_rules()
        self._publish("destroy", network)

    def prune(self, labels: Sequence[str] = (), until: int | None = None) -> list[str]:
        removed = []
        for network in self.store.networks():
            if network.default or self.store.endpoints(network_id=network.id):
                continue
            if not all(has_label(network.labels, label) for label in labels):
                continue
            if until is not None and time_ns(network.created) >= until:
                continue
            self.remove(network.id)
            removed.append(network.name)
        return removed

    def _make_bridge(self, network: NetworkRecord) -> None:
        addresses = [f"{r.gateway}/{r.subnet.prefixlen}" for r in network.ranges]
        links.ensure_bridge(network.bridge, addresses)

    def set_mesh(self, chains: str) -> None:
        """The routing mesh's chains, applied with the rest of porterd's rules."""
        with self._lock:
            self._mesh = chains
            self._apply_rules()

    def _apply_rules(self) -> None:
        endpoints = self.store.endpoints()
        networks = {n.id: n for n in self.store.networks()}
        bridges = [
            firewall.BridgeRules(
                bridge=n.bridge,
                subnets=tuple(str(r.subnet) for r in n.ranges),
                internal=n.internal,
                icc=n.icc,
                veths=tuple(e.host_veth for e in endpoints if e.network_id == n.id and not n.icc),
            )
            for n in networks.values()
        ]
        script = firewall.render(bridges, self._port_rules(endpoints, networks), self._mesh)
        if script != self._applied:  # most starts and stops change no rule
            firewall.apply(script)
            self._applied = script
            self.ports.forget_stale_udp_flows()

    def _port_rules(
        self, endpoints: list[Endpoint], networks: dict[str, NetworkRecord]
    ) -> list[firewall.PortRule]:
        rules = []
        for binding in self.ports.bindings():
            if proxied(binding.host_ip):  # the userland proxy's alone
                continue
            mine = [
                e
                for e in endpoints
                if e.container_id == binding.container_id and not networks[e.network_id].internal
            ]
            if not mine:
                continue
            for address in mine[0].addresses():
                if binding.host_ip and (":" in binding.host_ip) != (":" in address):
                    continue
                rules.append(
                    firewall.PortRule(
                        binding.protocol,
                        binding.host_ip,
                        binding.host_port,
                        address.split("/")[0],
                        binding.container_port,
                    )
                )
        return rules

    def netns_path(self, container_id: str) -> Path:
        return self.netns_root / container_id

    def endpoints_of(self, container_id: str) -> list[tuple[NetworkRecord, Endpoint]]:
        networks = {n.id: n for n in self.store.networks()}
        return [
            (networks[e.network_id], e) for e in self.store.endpoints(container_id=container_id)
        ]

    def endpoints_on(self, network_id: str) -> list[Endpoint]:
        return self.store.endpoints(network_id=network_id)

    def _publish(self, action: str, network: NetworkRecord, **extra: str) -> None:
        if self.events is not None:
            self.events.publish(
                "network", action, network.id, {"name": network.name, "type": "bridge", **extra}
            )
