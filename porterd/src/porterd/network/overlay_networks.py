"""The overlay driver's layer of the network service: the cluster's networks beside the local
ones, and a node's share of each.

An overlay network lives in the cluster store (`overlay`, a `porterd.cluster.overlay`
backend set by the daemon when it joins a cluster). A node copies its record into the local
database when a first container of the node joins it, so that endpoints, veths, /etc files
and the embedded DNS work as on a bridge network; its addresses are leased in the cluster
store (never twice across nodes). When the last container of the node leaves, the node's
copy, its bridge and its VXLAN device go, and so do they when the network is removed; a
round of the backend (`sync_overlays`) keeps the VXLAN peers up to date and removes what no
container owns, after a restart too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from porterd.errors import Conflict, DaemonError, Forbidden, InvalidParameter, Unavailable
from porterd.network import links, overlay
from porterd.network.endpoints import ContainerRef
from porterd.network.ipam import Address
from porterd.network.joining import NetworkJoining
from porterd.network.records import Endpoint, NetworkRecord

log = logging.getLogger("porterd.network.overlay")
OVERLAY = "overlay"
VXLAN_OPTION = "com.docker.network.driver.overlay.vxlanid_list"
NO_CLUSTER = "overlay networks need a cluster: this porterd was started without --cluster-store"


class OverlayBackend(Protocol):
    """What the network service needs of the cluster (porterd.cluster.overlay)."""

    advertise_addr: str

    def networks(self) -> list[NetworkRecord]: ...
    def find(self, ref: str) -> NetworkRecord | None: ...
    def create(self, name: str, **settings: Any) -> NetworkRecord: ...
    def remove(self, network: NetworkRecord) -> None: ...
    def lease(self, network: NetworkRecord, endpoint: Endpoint, wanted: str) -> Address: ...
    def release(self, network_id: str, address: str, container_id: str) -> None: ...
    def dns_answer(self, network: NetworkRecord, name: str) -> list[str]: ...


class OverlayNetworks(NetworkJoining):
    overlay: OverlayBackend | None = None

    def __init__(self, **settings: Any) -> None:
        self._peers: dict[str, frozenset[str]] = {}  # bridge -> the VXLAN peers applied
        super().__init__(**settings)

    def _backend(self) -> OverlayBackend:
        if self.overlay is None:
            raise InvalidParameter(NO_CLUSTER)
        return self.overlay

    def networks(self) -> list[NetworkRecord]:
        """The local networks and the cluster's overlays (without a cluster store that
        answers, the overlays this node uses)."""
        stored = self.store.networks()
        local = [n for n in stored if n.driver != OVERLAY]
        if self.overlay is None:
            return local
        try:
            return local + self.overlay.networks()
        except Unavailable as error:
            log.warning("listing the cluster's overlay networks: %s", error)
            return stored

    def find(self, ref: str) -> NetworkRecord | None:
        found = super().find(ref)
        if found is None and self.overlay is not None:
            found = self.overlay.find(ref)
        return found

    def create_overlay(self, name: str, *, enable_ipv6: bool, **settings: Any) -> NetworkRecord:
        """A network of the cluster (`settings`: internal, attachable, ipam, labels and
        options, as `create` takes them)."""
        backend = self._backend()
        if enable_ipv6:
            raise InvalidParameter("IPv6 is not supported on overlay networks")
        if any(n.name == name for n in self.store.networks() if n.driver != OVERLAY):
            raise Conflict(f"network with name {name} already exists")
        record = backend.create(name, **settings)
        self._publish("create", record, type=OVERLAY)
        return record

    def remove(self, ref: str) -> None:
        network = self.get(ref)
        if network.driver != OVERLAY:
            super().remove(ref)
            return
        backend = self._backend()
        with self._lock:  # refused while a service uses it or an endpoint holds a lease
            backend.remove(network)
            self._drop_overlay(network)
            self._apply_rules()
        self._publish("destroy", network, type=OVERLAY)

    def connect(
        self,
        ref: str,
        container: ContainerRef,
        settings: dict[str, Any] | None = None,
        *,
        plug: bool = True,
    ) -> Endpoint:
        network = self.get(ref)
        if network.driver != OVERLAY:
            return super().connect(ref, container, settings, plug=plug)
        self._backend()
        if not (network.attachable or container.task):
            raise Forbidden(
                f"could not attach to network {network.name}: it is not manually attachable"
                " (create it with --attachable)"
            )
        with self._lock:
            if not any(n.id == network.id for n in self.store.networks()):
                with self.database.transaction() as connection:
                    self.store.add_network(connection, network)
            try:
                return super().connect(network.id, container, settings, plug=plug)
            except Exception:
                if not self.store.endpoints(network_id=network.id):
                    self._drop_overlay(network)
                raise

    def _lease(self, connection: Any, network: NetworkRecord, endpoint: Endpoint) -> None:
        if network.driver != OVERLAY:
            super()._lease(connection, network, endpoint)
            return
        wanted = endpoint.static.get("IPv4Address", "")
        address = self._backend().lease(network, endpoint, wanted)
        self.store.lease(connection, network.id, str(address), endpoint.container_id)
        endpoint.ipv4 = f"{address}/{network.ranges[0].subnet.prefixlen}"
        endpoint.mac = "02:42:" + ":".join(f"{b:02x}" for b in address.packed)

    def _carries_gateway(self, network: NetworkRecord, endpoint: Endpoint) -> bool:
        """An overlay has no router: its containers' default routes go elsewhere."""
        return network.driver != OVERLAY and super()._carries_gateway(network, endpoint)

    def _make_bridge(self, network: NetworkRecord) -> None:
        if network.driver != OVERLAY:
            super()._make_bridge(network)
        elif self.overlay is None:  # after a restart, until the node is back in its cluster
            links.ensure_bridge(network.bridge, [], network.mtu)
        else:
            vni = int(network.options[VXLAN_OPTION])
            overlay.ensure_devices(network.bridge, vni, self.overlay.advertise_addr, network.mtu)

    def _unplug(self, endpoint: Endpoint) -> None:
        super()._unplug(endpoint)
        self._overlay_left([endpoint])

    def _overlay_left(self, endpoints: Iterable[Endpoint]) -> None:
        """Endpoints gone: their cluster leases released; a network the node no longer uses
        loses its devices and its local copy."""
        networks = {n.id: n for n in self.store.networks() if n.driver == OVERLAY}
        for endpoint in endpoints:
            network = networks.get(endpoint.network_id)
            if network is None:
                continue
            if self.overlay is not None and endpoint.ipv4:
                try:
                    self.overlay.release(
                        network.id, endpoint.ipv4.split("/")[0], endpoint.container_id
                    )
                except DaemonError as error:  # the next round releases it
                    log.warning("releasing %s on %s: %s", endpoint.ipv4, network.name, error)
            if not self.store.endpoints(network_id=network.id):
                self._drop_overlay(network)

    def _drop_overlay(self, network: NetworkRecord) -> None:
        with self.database.transaction() as connection:
            self.store.delete_network(connection, network.id)
        overlay.remove_devices(network.bridge)
        self._peers.pop(network.bridge, None)

    def sync_overlays(
        self, peers: Mapping[str, Iterable[str]], held: Mapping[tuple[str, str], str]
    ) -> None:
        """A round of the backend: each overlay in use here reaches its `peers` (network id
        -> the other nodes with an endpoint on it); what no container of this node owns goes:
        local copies of networks without endpoints here, leftover devices, and the leases of
        this node (`held`: (network, address) -> container) whose endpoint is gone.

        The leases are released last, outside the lock: a store slow to answer or without
        quorum then holds up neither the node's containers joining and leaving networks nor
        the rest of the round (the rules after a network dropped), and a lease it could not
        release is tried again next round."""
        with self._lock:
            endpoints = self.store.endpoints()
            used = {e.network_id for e in endpoints}
            owned = {(e.network_id, e.container_id) for e in endpoints}
            dropped = False
            kept = []  # the bridges of the networks left after the round, read once
            for network in self.store.networks():
                if network.driver == OVERLAY and network.id not in used:
                    self._drop_overlay(network)
                    dropped = True
                    continue
                if network.driver == OVERLAY:
                    self._sync_devices(network, frozenset(peers.get(network.id, ())))
                kept.append(network.bridge)
            # a bridge network's own name may start with ov- too: it is no leftover
            for bridge in overlay.leftover_bridges(kept):
                overlay.remove_devices(bridge)
            if dropped:
                self._apply_rules()
        for (network_id, address), container_id in held.items():
            if (network_id, container_id) not in owned and self.overlay is not None:
                try:
                    self.overlay.release(network_id, address, container_id)
                except DaemonError as error:
                    log.warning("releasing %s of a container gone: %s", address, error)

    def _sync_devices(self, network: NetworkRecord, peers: frozenset[str]) -> None:
        applied = self._peers
        device = overlay.vxlan_name(network.bridge)
        if not (links.link_exists(network.bridge) and links.link_exists(device)):
            self._make_bridge(network)
            applied.pop(network.bridge, None)
        if applied.get(network.bridge) != peers:
            overlay.sync_peers(network.bridge, peers)
            applied[network.bridge] = peers

    def dns_answer(self, container_id: str, name: str) -> list[str]:
        """On an overlay, the cluster answers: a service's name (and tasks.NAME) gives the
        addresses of its tasks in rotation on every node, and only those."""
        found = super().dns_answer(container_id, name)
        if self.overlay is None:
            return found
        answered, local = [], set()
        for network, _ in self.endpoints_of(container_id):
            if network.driver == OVERLAY:
                answered += self.overlay.dns_answer(network, name)
                local |= {e.ipv4.split("/")[0] for e in self.store.endpoints(network_id=network.id)}
        kept = [address for address in found if address not in local]
        return list(dict.fromkeys(kept + answered))
