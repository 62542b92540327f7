"""A container on a network: its endpoint recorded with the addresses leased for it at create
or connect, its veth plugged while it runs, all of it undone at disconnect."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from typing import Any

from porterd.errors import Conflict, Forbidden, InvalidParameter, NotFound
from porterd.network import links
from porterd.network.definitions import DEFAULT_NETWORK, PSEUDO_NETWORKS
from porterd.network.endpoints import ContainerRef, container_ref
from porterd.network.ipam import parse_address
from porterd.network.naming import ContainerNaming
from porterd.network.records import Endpoint, NetworkRecord


class NetworkJoining(ContainerNaming):
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
            carried = self._carries_gateway(network, mine[0])
            self._unplug(mine[0])
            if carried and links.is_netns(self.netns_path(container_id)):
                self._move_default_routes(container_id)
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
            network.mtu,
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

    def _move_default_routes(self, container_id: str) -> None:
        """The network that carried them is gone: the next one that is not internal does."""
        for network, endpoint in self.endpoints_of(container_id):
            if not network.internal:
                gateways = [str(r.gateway) for r in network.ranges]
                links.set_default_routes(
                    self.netns_path(container_id), endpoint.interface, gateways
                )
                return

    def _unplug(self, endpoint: Endpoint) -> None:
        with self.database.transaction() as connection:
            self.store.delete_endpoint(connection, endpoint)
        links.unplug_veth(
            self.netns_path(endpoint.container_id), endpoint.interface, endpoint.host_veth
        )
