"""The network service: dockerd's bridge driver and its network API, over porterd's state.

Networks, endpoints and address leases are recorded in the database before the links and
rules they stand for are made, and the links and rules are derived from the records, so after
a crash `recover()` can make what is missing and remove what no container owns.

A container's life here: `register` at create (its networks checked, its endpoints and
addresses recorded), `prepare` at start (its namespace under EXEC_ROOT/netns, a veth into each
network's bridge, the rules, /etc/hosts and /etc/resolv.conf, the embedded DNS server),
`connect`/`disconnect` while it lives, `release` at removal.

The service is built in layers, one job each: `catalog` (networks, bridges, rules), `naming`
(a container's /etc files and DNS answers), `joining` (endpoints, addresses, veths),
`overlay_networks` (the cluster's overlay networks on this node), and here
the container's life cycle and the recovery after a restart.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from porterd.errors import Conflict, InvalidParameter
from porterd.network import links
from porterd.network.definitions import (
    BRIDGE_NAME_OPTION,
    DEFAULT_BRIDGE,
    DEFAULT_NETWORK,
    ICC_OPTION,
    PSEUDO_NETWORKS,
    now,
)
from porterd.network.endpoints import (  # join_netns: for the container service
    Attachment,
    ContainerRef,
    container_ref,
    join_netns,
)
from porterd.network.etcfiles import hosts_file, resolv_conf_file
from porterd.network.ipam import Range, check_free, next_subnet, parse_subnet
from porterd.network.overlay_networks import OverlayNetworks
from porterd.network.ports import PortBinding, port_bindings
from porterd.network.records import Endpoint, NetworkRecord
from porterd.state import Database

log = logging.getLogger("porterd.network")
__all__ = ["Attachment", "ContainerRef", "NetworkService", "container_ref", "join_netns"]


class NetworkService(OverlayNetworks):
    def __init__(
        self,
        *,
        database: Database,
        exec_root: Path,
        events: Any = None,
        bip: str = "",
        default_address_pools: Sequence[str] = (),
        icc: bool = True,
        resolv_conf: Path = Path("/etc/resolv.conf"),
    ) -> None:
        super().__init__(
            database=database,
            exec_root=exec_root,
            events=events,
            default_address_pools=default_address_pools,
            icc=icc,
            resolv_conf=resolv_conf,
        )
        from porterd.network.dns import EmbeddedDns

        self.dns = EmbeddedDns(self.dns_answer, self.resolvers)
        self._readdressed: set[str] = set()  # running on the default bridge when --bip changed
        links.set_sysctl("net/ipv4/ip_forward", "1")
        try:
            self._ensure_default(bip)
        except Exception:
            self.dns.close()
            raise

    def _ensure_default(self, bip: str) -> None:
        existing = self.find(DEFAULT_NETWORK)
        wanted = _bip_range(bip) if bip else None
        used = [
            parse_subnet(n.ipv4["Subnet"])
            for n in self.store.networks()
            if n.ipv4 and n.name != DEFAULT_NETWORK
        ]
        if wanted is not None:
            check_free(wanted.subnet, used)
        if existing is None:
            ipv4 = wanted or Range.build(next_subnet(self.pools, used))
            record = NetworkRecord(
                id=secrets.token_hex(32),
                name=DEFAULT_NETWORK,
                bridge=DEFAULT_BRIDGE,
                created=now(),
                ipv4=ipv4.to_json(),
                icc=self.icc,
                options={BRIDGE_NAME_OPTION: DEFAULT_BRIDGE, ICC_OPTION: str(self.icc).lower()},
                default=True,
            )
            with self.database.transaction() as connection:
                self.store.add_network(connection, record)
        else:
            self._update_default(existing, wanted)
        self.recover(None)

    def _update_default(self, existing: NetworkRecord, wanted: Range | None) -> None:
        """--icc or --bip changed since the last start. On a new --bip the bridge is
        re-addressed and every container on it gets an address of the new subnet, as dockerd
        re-addresses its default bridge (a running container has its new one once it
        restarts)."""
        if wanted is not None and existing.ipv4 == wanted.to_json():
            wanted = None
        if existing.icc == self.icc and wanted is None:
            return
        existing.icc = self.icc
        existing.options[ICC_OPTION] = str(self.icc).lower()
        endpoints = []
        if wanted is not None:
            existing.ipv4 = wanted.to_json()
            endpoints = self.store.endpoints(network_id=existing.id)
            self._readdressed = {e.container_id for e in endpoints}
        with self.database.transaction() as connection:
            self.store.delete_network(connection, existing.id)
            self.store.add_network(connection, existing)
            if wanted is not None:
                self.store.forget_leases(connection, existing.id)
            for endpoint in endpoints:
                self._lease(connection, existing, endpoint)
                self.store.update_endpoint(connection, endpoint)
        if wanted is not None:
            gateway = f"{wanted.gateway}/{wanted.subnet.prefixlen}"
            links.ensure_bridge(existing.bridge, [gateway], exclusive=True)

    def prepare(self, container: ContainerRef) -> Attachment:
        """At start: the container's namespace, plugged into its networks, and its files."""
        mode = container.network_mode or "default"
        hostname = container.hostname or container.id[:12]
        if mode in PSEUDO_NETWORKS:
            resolv = resolv_conf_file(self.resolvers(container.id), embedded=False)
            if mode == "host":  # the host's resolvers, loopback ones included, are reachable
                resolv = _read_text(self.resolv_conf)
            return Attachment(None, hosts_file(hostname, [], container.extra_hosts), resolv)
        if mode.startswith("container:"):
            owner = self._joined(mode)
            netns = self.netns_path(owner)
            if not links.is_netns(netns):
                raise Conflict(f"cannot join the network of container {owner}: it is not running")
            return Attachment(
                netns, self._hosts(owner, hostname, container.extra_hosts), self._resolv(owner)
            )
        with self._lock:
            self._reserve_ports(container)
            netns = self.netns_path(container.id)
            try:
                links.create_netns(netns)
                networks = {n.id: n for n in self.store.networks()}
                for endpoint in self.store.endpoints(container_id=container.id):
                    self._plug(networks[endpoint.network_id], endpoint)
                self._apply_rules()
            except Exception:
                self.stop(container.id)
                raise
        return Attachment(
            netns,
            self._hosts(container.id, hostname, container.extra_hosts),
            self._resolv(container.id),
        )

    def _reserve_ports(self, container: ContainerRef) -> None:
        """The ports it publishes are bound; the numbers chosen are kept for a recovery."""
        kept = {
            (b.protocol, b.container_port, b.host_ip): b.host_port
            for b in self.store.ports(container.id)
        }
        wanted = [
            dataclasses.replace(
                b, host_port=b.host_port or kept.get((b.protocol, b.container_port, b.host_ip), 0)
            )
            for b in port_bindings(container.port_bindings, container.id)
        ]
        bound = self.ports.reserve(container.id, wanted, self.container_address(container.id))
        with self.database.transaction() as connection:
            self.store.put_ports(connection, container.id, bound)

    def container_address(self, container_id: str) -> str:
        """The container's IPv4 address on its first network that is not internal ("" if
        none): the userland proxy relays [::1] to it, the routing mesh its node's share."""
        for network, endpoint in self.endpoints_of(container_id):
            if not network.internal and endpoint.ipv4:
                return endpoint.ipv4.split("/")[0]
        return ""

    def published(self, container_id: str) -> list[PortBinding]:
        return self.ports.bindings(container_id) or self.store.ports(container_id)

    def stop(self, container_id: str) -> None:
        """The container stopped: its namespace, veths and published ports go; its endpoints and
        addresses stay recorded until it is removed."""
        with self._lock:
            self._unwire(container_id)
            self._apply_rules()

    def _unwire(self, container_id: str) -> list[Endpoint]:
        """Its DNS, veths, namespace and published ports go; its endpoints, returned, stay."""
        self.dns.stop(container_id)
        endpoints = self.store.endpoints(container_id=container_id)
        for endpoint in endpoints:
            links.delete_link(endpoint.host_veth)
        links.remove_netns(self.netns_path(container_id))
        self.ports.release(container_id)
        return endpoints

    def release(self, container_id: str) -> None:
        """The container is removed: everything of it goes, its addresses freed."""
        with self._lock:
            endpoints = self._unwire(container_id)
            with self.database.transaction() as connection:
                for endpoint in endpoints:
                    self.store.delete_endpoint(connection, endpoint)
                self.store.put_ports(connection, container_id, [])
            self._overlay_left(endpoints)
            # once: without its published ports, and its veths out of the icc=false rules
            self._apply_rules()

    def recover(self, containers: Mapping[str, bool] | None) -> None:
        """After a (re)start: bridges and rules made again from the records; the running
        containers' DNS and published ports served again; what belongs to no container
        (`containers`: each existing one's id, and whether it runs) removed. With None, only
        the bridges and rules are made."""
        with self._lock:
            for network in self.store.networks():
                self._make_bridge(network)
            if containers is not None:
                for endpoint in self.store.endpoints():
                    if endpoint.container_id not in containers:
                        self.release(endpoint.container_id)
                paths = list(self.netns_root.iterdir()) if self.netns_root.is_dir() else []
                for path in paths:
                    if not containers.get(path.name) or not links.is_netns(path):
                        self.stop(path.name)
                        continue
                    self._rebind(path.name)
                    for network, endpoint in self.endpoints_of(path.name):
                        self._replug(network, endpoint)
            self._apply_rules()

    def _replug(self, network: NetworkRecord, endpoint: Endpoint) -> None:
        """A running container's endpoint after a restart: its veth back on the bridge (made
        again if it went), its DNS server listening again. On a default bridge that was
        re-addressed, its veth is made again with its new address and routes."""
        if network.default and endpoint.container_id in self._readdressed:
            self._readdressed.discard(endpoint.container_id)
            netns = self.netns_path(endpoint.container_id)
            links.unplug_veth(netns, endpoint.interface, endpoint.host_veth)
            self._plug(network, endpoint)
            self._write_hosts(endpoint.container_id)
        elif links.link_exists(endpoint.host_veth):
            links.enslave(endpoint.host_veth, network.bridge)
            if not network.default:
                self.dns.serve(endpoint.container_id, self.netns_path(endpoint.container_id))
        else:
            self._plug(network, endpoint)

    def _rebind(self, container_id: str) -> None:
        try:
            wanted = self.store.ports(container_id)
            self.ports.reserve(container_id, wanted, self.container_address(container_id))
        except Conflict as error:
            log.warning("container %s: its published port is taken now: %s", container_id, error)

    def close(self) -> None:
        self.dns.close()
        self.ports.close()


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _bip_range(bip: str) -> Range:
    try:
        interface = ipaddress.ip_interface(bip)
    except ValueError:
        raise InvalidParameter(f"invalid --bip {bip!r}: expected ADDRESS/PREFIX") from None
    return Range.build(interface.network, str(interface.ip))
