"""A node's side of the cluster's overlay networks: the backend the network service's overlay
driver calls (porterd.network.overlay_networks), over the records and leases in etcd
(porterd.cluster.overlay_store), and a round every few seconds (and on each change of a lease
or a node's liveness) that keeps each VXLAN device's peers to the other live nodes with an
endpoint on its network and removes what no container of the node owns.

The embedded DNS's answers and the VXLAN peers come from the node's view of the cluster
(porterd.cluster.overlay_view), kept by its watch of the store: a lookup never waits on etcd,
and without quorum names go on resolving as the node last saw them.
"""

from __future__ import annotations

import logging
from typing import Any

from porterd.cluster.etcd import WatchEvent
from porterd.cluster.loop import Periodic
from porterd.cluster.overlay_store import OverlayStore
from porterd.cluster.overlay_view import ALIVE, LEASES, OverlayView
from porterd.cluster.store import ClusterStore
from porterd.cluster.wake import StoreWatch
from porterd.network.ipam import Address
from porterd.network.records import Endpoint, NetworkRecord

log = logging.getLogger(__name__)
SYNC_INTERVAL = 2.0


def matches(holder: dict[str, Any], name: str) -> bool:
    """Whether a lease's holder answers `name`: its container's name or short id, an alias
    (a task's service name), or tasks.ALIAS."""
    names = {str(holder.get("Name", "")).lower(), str(holder.get("Container", ""))[:12]}
    aliases = {str(alias).lower() for alias in holder.get("Aliases") or []}
    names |= aliases | {f"tasks.{alias}" for alias in aliases}
    return name.rstrip(".").lower() in names - {""}


def in_rotation(
    hits: list[tuple[str, dict[str, Any]]], ready: set[str], tasks: list[dict[str, Any]]
) -> list[str]:
    """The addresses of `hits` ((address, lease holder)) the DNS answers: those held on a
    ready node, and of a task's container only while the task runs and is not unhealthy
    (a container no task names yet, starting or attached by hand, is answered)."""
    answers: dict[str, bool] = {}
    for task in tasks:
        status = task.get("Status", {})
        container = status.get("ContainerStatus", {})
        if container.get("ContainerID"):
            answers[container["ContainerID"]] = (
                task.get("DesiredState") == "running"
                and status.get("State") == "running"
                and container.get("Health") != "unhealthy"
            )
    return [
        address
        for address, holder in hits
        if holder.get("Node") in ready and answers.get(holder.get("Container", ""), True)
    ]


class ClusterOverlays:
    def __init__(
        self,
        store: ClusterStore,
        node_id: str,
        advertise_addr: str,
        *,
        interval: float = SYNC_INTERVAL,
        watch: StoreWatch | None = None,
    ) -> None:
        self.cluster = store
        self.records = OverlayStore(store.etcd, store.prefix)
        self.view = OverlayView(store.etcd, store.prefix)
        self.node_id = node_id
        self.advertise_addr = advertise_addr
        self.service: Any = None
        self._loop = Periodic("cluster-overlay", self.sync_once, interval)
        self._watch = watch or StoreWatch(store.etcd, store.prefix)
        self._watch.subscribe(self._changed, self.view.resync)

    def attach(self, service: Any) -> None:
        """Serve `service` (a NetworkService) as its overlay backend, and start the rounds."""
        self.service = service
        service.overlay = self
        self._watch.start()
        self._loop.start()

    def stop(self) -> None:
        self._watch.stop()
        self._loop.stop()

    def _changed(self, event: WatchEvent) -> None:
        """A change seen by the watch: into the view; a lease or a node's liveness that
        changed brings the next round forward (the VXLAN peers follow them)."""
        if self.view.changed(event):
            kind = event.kv.key[len(self.view.prefix) :].split("/", 1)[0]
            if kind in (LEASES, ALIVE):
                self._loop.wake()

    # -- what the network service asks ----------------------------------------------------

    def networks(self) -> list[NetworkRecord]:
        return self.records.networks()

    def find(self, ref: str) -> NetworkRecord | None:
        return self.records.find(ref)

    def create(self, name: str, **settings: Any) -> NetworkRecord:
        return self.records.create(name, **settings)

    def remove(self, network: NetworkRecord) -> None:
        self.records.remove(network, self.cluster.services())

    def lease(self, network: NetworkRecord, endpoint: Endpoint, wanted: str) -> Address:
        holder = {
            "Node": self.node_id,
            "Container": endpoint.container_id,
            "Name": endpoint.name,
            "Aliases": endpoint.aliases,
        }
        return self.records.lease(network, holder, wanted)

    def release(self, network_id: str, address: str, container_id: str) -> None:
        self.records.release(network_id, address, container_id)

    def dns_answer(self, network: NetworkRecord, name: str) -> list[str]:
        """Addresses on `network` of the endpoints in rotation that answer `name`, from the
        node's view of the cluster (never waiting on etcd)."""
        leases = self.view.leases(network.id)
        hits = [(address, h) for (_, address), h in leases.items() if matches(h, name)]
        if not hits:
            return []
        return in_rotation(hits, set(self.view.live_nodes()), self.view.tasks())

    # -- the round -----------------------------------------------------------------------------

    def sync_once(self) -> None:
        if self.service is None:
            return
        if not self.view.filled:  # the watch's read failed: read here (skipped if it fails)
            self.view.resync()
        leases = self.view.leases()
        held = {
            key: holder["Container"]
            for key, holder in leases.items()
            if holder.get("Node") == self.node_id
        }
        self.service.sync_overlays(peers(leases, self.view.live_nodes(), self.node_id), held)


def peers(
    leases: dict[tuple[str, str], dict[str, Any]], live: dict[str, str], node_id: str
) -> dict[str, set[str]]:
    """Network id -> the addresses of the other live nodes where an endpoint holds an address
    of it: the VXLAN device floods to those nodes only (not to every node of the cluster)."""
    found: dict[str, set[str]] = {}
    for (network, _), holder in leases.items():
        node = holder.get("Node", "")
        if node != node_id and live.get(node):
            found.setdefault(network, set()).add(live[node])
    return found
