"""The network service: dockerd's bridge driver and its network API, over porterd's state.

Networks, endpoints and address leases are recorded in the database before the links and
rules they stand for are made, and the links and rules are derived from the records, so after
a crash `recover()` can make what is missing and remove what no container owns.

A container's life here: `register` at create (its networks checked, its endpoints and
addresses recorded), `prepare` at start (its namespace under EXEC_ROOT/netns, a veth into each
network's bridge, the rules, /etc/hosts and /etc/resolv.conf, the embedded DNS server),
`connect`/`disconnect` while it lives, `release` at removal.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import ipaddress
import logging
import secrets
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from porterd.errors import Conflict, Forbidden, InvalidParameter, NotFound
from porterd.network import firewall, links
from porterd.network.definitions import (
    BRIDGE_NAME_OPTION,
    DEFAULT_BRIDGE,
    DEFAULT_NETWORK,
    ICC_OPTION,
    PSEUDO_NETWORKS,
    define_network,
    now,
)
from porterd.network.endpoints import (  # join_netns: for the container service
    Attachment,
    ContainerRef,
    container_ref,
    join_netns,
)
from porterd.network.etcfiles import ResolvConf, host_resolv_conf, hosts_file, resolv_conf_file
from porterd.network.ipam import (
    DEFAULT_POOLS,
    AddressPool,
    Range,
    next_subnet,
    parse_address,
    parse_subnet,
)
from porterd.network.ports import PortBinding, PortReservations, port_bindings
from porterd.network.records import Endpoint, NetworkRecord, NetworkStore
from porterd.state import Database

log = logging.getLogger("porterd.network")
__all__ = ["Attachment", "ContainerRef", "NetworkService", "container_ref", "join_netns"]


class NetworkService:
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
        self.store = NetworkStore(database)
        self.database = database
        self.events = events
        self.netns_root = Path(exec_root) / "netns"
        self.pools = [AddressPool.parse(p) for p in default_address_pools] or list(DEFAULT_POOLS)
        self.icc = icc
        self.resolv_conf = resolv_conf
        self.ports = PortReservations()
        self._applied = ""  # the ruleset nft holds, as porterd last rendered it
        self._lock = threading.RLock()
        self.containers: Any = None  # set by the daemon: `.get(ref)` gives a container
        from porterd.network.dns import EmbeddedDns

        self.dns = EmbeddedDns(self.dns_answer, self.resolvers)
        links.set_sysctl("net/ipv4/ip_forward", "1")
        self._ensure_default(bip)

    # --- networks ---------------------------------------------------------------------------

    def _ensure_default(self, bip: str) -> None:
        existing = self.find(DEFAULT_NETWORK)
        if existing is None:
            if bip:
                try:
                    interface = ipaddress.ip_interface(bip)
                except ValueError:
                    raise InvalidParameter(
                        f"invalid --bip {bip!r}: expected ADDRESS/PREFIX"
                    ) from None
                ipv4 = Range.build(interface.network, str(interface.ip))
            else:
                used = [parse_subnet(n.ipv4["Subnet"]) for n in self.store.networks() if n.ipv4]
                ipv4 = Range.build(next_subnet(self.pools, used))
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
        elif existing.icc != self.icc:  # --icc changed since the last start
            existing.icc = self.icc
            existing.options[ICC_OPTION] = str(self.icc).lower()
            with self.database.transaction() as connection:
                self.store.delete_network(connection, existing.id)
                self.store.add_network(connection, existing)
        self.recover(None)

    def networks(self) -> list[NetworkRecord]:
        return self.store.networks()

    def find(self, ref: str) -> NetworkRecord | None:
        networks = self.store.networks()
        for network in networks:
            if ref in (network.id, network.name):
                return network
        matches = [n for n in networks if ref and n.id.startswith(ref)]
        if len(matches) > 1:
            raise InvalidParameter(f"network {ref} is ambiguous ({len(matches)} matches found)")
        return matches[0] if matches else None

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
            if not labels_match(network.labels, labels):
                continue
            if until is not None and _created_ns(network.created) >= until:
                continue
            self.remove(network.id)
            removed.append(network.name)
        return removed

    def _make_bridge(self, network: NetworkRecord) -> None:
        addresses = [f"{r.gateway}/{r.subnet.prefixlen}" for r in network.ranges]
        links.ensure_bridge(network.bridge, addresses)

    def _apply_rules(self) -> None:
        endpoints = self.store.endpoints()
        bridges = [
            firewall.BridgeRules(
                bridge=n.bridge,
                subnets=tuple(str(r.subnet) for r in n.ranges),
                internal=n.internal,
                icc=n.icc,
                veths=tuple(e.host_veth for e in endpoints if e.network_id == n.id and not n.icc),
            )
            for n in self.store.networks()
        ]
        script = firewall.render(bridges, self._port_rules(endpoints))
        if script != self._applied:  # most starts and stops change no rule
            firewall.apply(script)
            self._applied = script

    def _port_rules(self, endpoints: list[Endpoint]) -> list[firewall.PortRule]:
        networks = {n.id: n for n in self.store.networks()}
        rules = []
        for binding in self.ports.bindings():
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

    # --- endpoints ----------------------------------------------------------------------------

    def netns_path(self, container_id: str) -> Path:
        return self.netns_root / container_id

    def register(
        self,
        container: ContainerRef,
        endpoints_config: dict[str, Any] | None = None,
    ) -> None:
        """At create: check the network mode and record the container's endpoints."""
        mode = container.network_mode or "default"
        if mode in PSEUDO_NETWORKS:
            return
        if mode.startswith("container:"):
            self._joined(mode)
            return
        primary = DEFAULT_NETWORK if mode == "default" else mode
        configs = dict(endpoints_config or {})
        settings = {}
        for key in (mode, primary, self.get(primary).name, self.get(primary).id):
            settings = configs.pop(key, None) or settings
        for config in (settings, *configs.values()):
            if config is not None and not isinstance(config, dict):
                raise InvalidParameter("EndpointsConfig values must be objects")
        self.connect(primary, container, settings, plug=False)
        for name, extra in configs.items():
            self.connect(name, container, extra or {}, plug=False)

    def container(self, ref: str) -> ContainerRef:
        if self.containers is None:
            raise NotFound(f"No such container: {ref}")
        return container_ref(self.containers.get(ref))

    def connect_container(self, network: str, ref: str, settings: dict[str, Any]) -> None:
        """`POST /networks/{id}/connect`: a container (by name or id) joins a network."""
        container = self.container(ref)
        if container.network_mode in PSEUDO_NETWORKS or container.network_mode.startswith(
            "container:"
        ):
            raise InvalidParameter(
                "container sharing network namespace with another container or host cannot be"
                " connected to any other network"
            )
        self.connect(network, container, settings)

    def disconnect_container(self, network: str, ref: str, *, force: bool) -> None:
        try:
            container_id = self.container(ref).id
        except NotFound:
            if not force:
                raise
            container_id = ref
        self.disconnect(network, container_id, force=force)

    def _joined(self, mode: str) -> str:
        ref = mode.partition(":")[2]
        if self.containers is None:
            raise NotFound(f"No such container: {ref}")
        return self.containers.get(ref).id

    def connect(
        self,
        ref: str,
        container: ContainerRef,
        settings: dict[str, Any] | None = None,
        *,
        plug: bool = True,
    ) -> Endpoint:
        """Record `container` on network `ref` (its addresses leased), plugged if `plug`."""
        settings = settings or {}
        network = self.get(ref)
        if network.name in PSEUDO_NETWORKS:
            raise Forbidden(f"container cannot be disconnected from or connected to {ref}")
        with self._lock:
            if self.store.endpoints(container_id=container.id, network_id=network.id):
                raise Forbidden(
                    f"endpoint with name {container.name} already exists in network {network.name}"
                )
            if network.default and settings.get("Aliases"):
                raise InvalidParameter("network-scoped alias is supported only for user networks")
            ipam_config = settings.get("IPAMConfig") or {}
            if network.default and (
                ipam_config.get("IPv4Address") or ipam_config.get("IPv6Address")
            ):
                raise InvalidParameter(
                    "user specified IP address is supported on user defined networks only"
                )
            interface = self._next_interface(container.id)
            endpoint = Endpoint(
                container_id=container.id,
                network_id=network.id,
                id=secrets.token_hex(32),
                interface=interface,
                host_veth="veth"
                + hashlib.sha256((container.id + network.id).encode()).hexdigest()[:11],
                mac="",
                ipv4="",
                aliases=[str(a) for a in settings.get("Aliases") or []],
                static={k: v for k, v in ipam_config.items() if v},
                name=container.name.lstrip("/"),
            )
            with self.database.transaction() as connection:
                self._lease(connection, network, endpoint)
                self.store.put_endpoint(connection, endpoint)
            if plug and links.is_netns(self.netns_path(container.id)):
                try:
                    self._plug(network, endpoint)
                    self._apply_rules()
                    self._write_hosts(container.id)
                except Exception:
                    self._unplug(endpoint)
                    raise
        self._publish("connect", network, container=container.id)
        return endpoint

    def _next_interface(self, container_id: str) -> str:
        taken = {e.interface for e in self.store.endpoints(container_id=container_id)}
        return next(f"eth{n}" for n in range(len(taken) + 1) if f"eth{n}" not in taken)

    def _lease(
        self, connection: sqlite3.Connection, network: NetworkRecord, endpoint: Endpoint
    ) -> None:
        taken = self.store.leased(connection, network.id)
        for family_range in network.ranges:
            key = "IPv4Address" if family_range.subnet.version == 4 else "IPv6Address"
            wanted = endpoint.static.get(key)
            if wanted:
                address = parse_address(wanted)
                family_range.check_static(address, taken)
            else:
                address = family_range.pick(taken)
            try:
                self.store.lease(connection, network.id, str(address), endpoint.container_id)
            except sqlite3.IntegrityError:
                raise Conflict(f"Address already in use: {address}") from None
            text = f"{address}/{family_range.subnet.prefixlen}"
            if address.version == 4:
                endpoint.ipv4 = text
                endpoint.mac = "02:42:" + ":".join(f"{b:02x}" for b in address.packed)
            else:
                endpoint.ipv6 = text

    def disconnect(self, ref: str, container_id: str, *, force: bool = False) -> None:
        network = self.get(ref)
        with self._lock:
            mine = self.store.endpoints(container_id=container_id, network_id=network.id)
            if not mine:
                if force:
                    return
                raise Forbidden(
                    f"container {container_id} is not connected to network {network.name}"
                )
            self._unplug(mine[0])
            self._apply_rules()
            if links.is_netns(self.netns_path(container_id)):
                self._write_hosts(container_id)
        self._publish("disconnect", network, container=container_id)

    def _plug(self, network: NetworkRecord, endpoint: Endpoint) -> None:
        netns = self.netns_path(endpoint.container_id)
        gateways = []
        if self._carries_gateway(network, endpoint):
            gateways = [str(r.gateway) for r in network.ranges]
        if not links.link_exists(network.bridge):
            self._make_bridge(network)
        links.plug_veth(
            netns,
            network.bridge,
            endpoint.host_veth,
            endpoint.interface,
            endpoint.mac,
            endpoint.addresses(),
            gateways,
        )
        if not network.default:
            self.dns.serve(endpoint.container_id, netns)

    def _carries_gateway(self, network: NetworkRecord, endpoint: Endpoint) -> bool:
        """The default routes go through the container's first network that is not internal."""
        if network.internal:
            return False
        networks = {n.id: n for n in self.store.networks()}
        for other in self.store.endpoints(container_id=endpoint.container_id):
            if other.network_id == endpoint.network_id:
                return True
            if not networks[other.network_id].internal:
                return False
        return True

    def _unplug(self, endpoint: Endpoint) -> None:
        with self.database.transaction() as connection:
            self.store.delete_endpoint(connection, endpoint)
        links.unplug_veth(
            self.netns_path(endpoint.container_id), endpoint.interface, endpoint.host_veth
        )

    # --- the container life cycle -------------------------------------------------------------

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
        bound = self.ports.reserve(container.id, wanted, self._proxy_target(container.id))
        with self.database.transaction() as connection:
            self.store.put_ports(connection, container.id, bound)

    def _proxy_target(self, container_id: str) -> str:
        """The IPv4 address the userland proxy relays [::1] to: the container's on its
        first network that is not internal."""
        for network, endpoint in self.endpoints_of(container_id):
            if not network.internal and endpoint.ipv4:
                return endpoint.ipv4.split("/")[0]
        return ""

    def published(self, container_id: str) -> list[PortBinding]:
        return self.ports.bindings(container_id) or self.store.ports(container_id)

    def resolvers(self, container_id: str) -> ResolvConf:
        """The resolv.conf a container's names outside its networks go to: the host's, with
        the container's own --dns, --dns-search and --dns-option over it."""
        host = host_resolv_conf(self.resolv_conf)
        try:
            settings = self.containers.get(container_id).host_config if self.containers else {}
        except NotFound:
            settings = {}
        return ResolvConf(
            nameservers=list(settings.get("Dns") or host.nameservers),
            search=list(settings.get("DnsSearch") or host.search),
            options=list(settings.get("DnsOptions") or host.options),
        )

    def _hosts(self, container_id: str, hostname: str, extra: Sequence[str]) -> str:
        addresses = [
            a.split("/")[0]
            for e in self.store.endpoints(container_id=container_id)
            for a in e.addresses()
        ]
        return hosts_file(hostname, addresses, extra)

    def _resolv(self, container_id: str) -> str:
        networks = {n.id: n for n in self.store.networks()}
        mine = [networks[e.network_id] for e in self.store.endpoints(container_id=container_id)]
        return resolv_conf_file(
            self.resolvers(container_id),
            embedded=any(not n.default for n in mine),
            ipv6=any(n.enable_ipv6 for n in mine),
        )

    def _write_hosts(self, container_id: str) -> None:
        """A running container connected or disconnected: dockerd rewrites its files too."""
        if self.containers is None:
            return
        try:
            container = self.containers.get(container_id)
            paths = self.containers.paths(container)
        except (NotFound, AttributeError):
            return
        hostname = container.config.get("Hostname") or container.id[:12]
        paths.hosts.write_text(
            self._hosts(container_id, hostname, container.host_config.get("ExtraHosts") or [])
        )
        paths.resolv_conf.write_text(self._resolv(container_id))

    def stop(self, container_id: str) -> None:
        """The container stopped: its namespace, veths and published ports go; its endpoints and
        addresses stay recorded until it is removed."""
        with self._lock:
            self.dns.stop(container_id)
            for endpoint in self.store.endpoints(container_id=container_id):
                links.delete_link(endpoint.host_veth)
            links.remove_netns(self.netns_path(container_id))
            self.ports.release(container_id)
            self._apply_rules()

    def forget_ports(self, container_id: str) -> None:
        with self.database.transaction() as connection:
            self.store.put_ports(connection, container_id, [])

    def release(self, container_id: str) -> None:
        """The container is removed: everything of it goes, its addresses freed."""
        with self._lock:
            self.stop(container_id)
            endpoints = self.store.endpoints(container_id=container_id)
            with self.database.transaction() as connection:
                for endpoint in endpoints:
                    self.store.delete_endpoint(connection, endpoint)
                self.store.put_ports(connection, container_id, [])
            self._apply_rules()  # its veths leave the icc=false rules

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
        again if it went), its DNS server listening again."""
        if links.link_exists(endpoint.host_veth):
            links.enslave(endpoint.host_veth, network.bridge)
            if not network.default:
                self.dns.serve(endpoint.container_id, self.netns_path(endpoint.container_id))
        else:
            self._plug(network, endpoint)

    def _rebind(self, container_id: str) -> None:
        try:
            wanted = self.store.ports(container_id)
            self.ports.reserve(container_id, wanted, self._proxy_target(container_id))
        except Conflict as error:
            log.warning("container %s: its published port is taken now: %s", container_id, error)

    # --- views --------------------------------------------------------------------------------

    def endpoints_of(self, container_id: str) -> list[tuple[NetworkRecord, Endpoint]]:
        networks = {n.id: n for n in self.store.networks()}
        return [
            (networks[e.network_id], e) for e in self.store.endpoints(container_id=container_id)
        ]

    def endpoints_on(self, network_id: str) -> list[Endpoint]:
        return self.store.endpoints(network_id=network_id)

    def dns_answer(self, container_id: str, name: str) -> list[str]:
        """Addresses of `name` for a container: the containers on its user networks by name,
        alias or short id (every match, for round robin)."""
        name = name.rstrip(".").lower()
        found = []
        for network, _ in self.endpoints_of(container_id):
            if network.default:
                continue
            for other in self.store.endpoints(network_id=network.id):
                names = {
                    other.name.lower(),
                    other.container_id[:12],
                    *(a.lower() for a in other.aliases),
                }
                if name in names:
                    found += [a.split("/")[0] for a in other.addresses()]
        return found

    def _publish(self, action: str, network: NetworkRecord, **extra: str) -> None:
        if self.events is not None:
            self.events.publish(
                "network", action, network.id, {"name": network.name, "type": "bridge", **extra}
            )

    def close(self) -> None:
        self.dns.close()
        self.ports.close()


def labels_match(labels: dict[str, str], wanted: Sequence[str]) -> bool:
    for label in wanted:
        key, sep, value = label.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def _created_ns(created: str) -> int:
    moment = datetime.datetime.fromisoformat(created.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1_000_000_000)


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
