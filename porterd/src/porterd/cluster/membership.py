"""A node's place in the cluster: its lease, renewed in the background, and the leader
election run on that same lease (the leader key dies with the node that holds it).

While the store cannot be reached the node keeps running what it runs and keeps trying; when
its lease expired meanwhile it takes a new one and marks itself alive again. A porterd started
while the store cannot be reached (or has no quorum) starts all the same and joins once the
store answers, so that a whole cluster restarted need not start etcd first.

A node whose record is deleted while its porterd runs (`porter node rm --force`) has left the
cluster, as a swarm node removed by a manager has: its porterd stops renewing and ends its
lease (which drops the leader key if it led, so that another node leads at its next tick),
says so in one log line, and tells `on_removed`, which stops what it ran as a member. It
does not register again by itself; a porterd started again with --cluster-store does.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Collection

from porterd.cluster.etcd import EtcdError, LeaseNotFound, WatchEvent
from porterd.cluster.scheduler import NodeInfo
from porterd.cluster.store import ClusterStore
from porterd.errors import Conflict

log = logging.getLogger(__name__)

DEFAULT_TTL = 5


class Membership:
    def __init__(
        self,
        store: ClusterStore,
        node_id: str,
        *,
        hostname: str,
        addr: str,
        resources: dict[str, int] | None = None,
        ttl: int = DEFAULT_TTL,
        on_leading: Callable[[bool], None] | None = None,
        on_removed: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.hostname = hostname
        self.addr = addr
        self.resources = resources or {}
        self.ttl = ttl
        self.on_leading = on_leading
        self.on_removed = on_removed
        self.lease = 0  # 0 until the node is registered
        self.leading = False
        self.removed = False  # its record was deleted while it ran: it left the cluster
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def join(self) -> None:
        """Register the node on a fresh lease and keep renewing it (and campaigning) on a
        thread of its own; if the store does not answer yet, that thread registers it when it
        does."""
        try:
            self.tick()
        except (EtcdError, Conflict) as error:
            log.warning("cannot join the cluster yet: %s; trying again", error)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"cluster-lease-{self.node_id[:8]}", daemon=True
        )
        self._thread.start()

    def register(self) -> None:
        """Record the node and mark it alive on a new lease, kept only once both are stored."""
        lease = self.store.etcd.grant(self.ttl)
        self.store.register_node(
            self.node_id,
            hostname=self.hostname,
            addr=self.addr,
            resources=self.resources,
            lease=lease,
        )
        self.lease = lease

    def tick(self) -> None:
        """Renew the lease once (register first, or take a new lease if it expired) and
        campaign for leadership; leave instead if the node's record is gone."""
        if not self.lease:
            self.register()
        else:
            expired = False
            try:
                self.store.etcd.keepalive(self.lease)
            except LeaseNotFound:
                expired = True
            if self.store.etcd.get(self.store.key("nodes", self.node_id)) is None:
                self._removed()
                return
            if expired:
                log.warning("cluster lease of node %s expired; joining again", self.node_id)
                lease = self.store.etcd.grant(self.ttl)
                self.store.mark_alive(self.node_id, self.addr, lease)
                self.lease = lease
        self._set_leading(self.store.campaign(self.node_id, self.lease))

    def _removed(self) -> None:
        """The node's record was deleted: stop renewing, end the lease, resign, tell."""
        log.warning(
            "node %s (%s) was removed from the cluster: it leaves, and no longer leads or runs"
            " tasks; start porterd again to join anew",
            self.node_id,
            self.hostname,
        )
        self._stop.set()
        lease, self.lease = self.lease, 0
        try:
            self.store.etcd.revoke(lease)
        except EtcdError as error:
            log.warning("cluster store: %s; the node's lease will expire by itself", error)
        self.removed = True
        self._set_leading(False)
        if self.on_removed is not None:
            self.on_removed()

    def _set_leading(self, leading: bool) -> None:
        if leading != self.leading:
            log.info("node %s %s", self.node_id, "leads" if leading else "no longer leads")
            self.leading = leading
            if self.on_leading is not None:
                self.on_leading(leading)

    def _run(self) -> None:
        interval = max(self.ttl / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                self.tick()
            except EtcdError as error:
                # Without the store this node cannot know whether it still leads.
                log.warning("cluster store: %s", error)
                self._set_leading(False)
            except Conflict as error:  # its record changed under each write: the next tick
                log.warning("cluster membership: %s", error)

    def abandon(self) -> None:
        """Stop renewing without telling anyone (as a killed porterd would)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def leave(self) -> None:
        """Stop renewing and end the lease: the node is down and leads no more at once."""
        self.abandon()
        if not self.lease:
            return
        try:
            self.store.etcd.revoke(self.lease)
        except EtcdError as error:
            log.warning("cluster store: %s; the node's lease will expire by itself", error)
        self._set_leading(False)


def as_new_leader_sees(
    nodes: list[NodeInfo], settled_at: float, now: float, seen_down: Collection[str] = ()
) -> list[NodeInfo]:
    """The nodes as the reconciler may act on them `now`, when it began to lead one lease's
    TTL before `settled_at`. Until then a node that is down may be one whose porterd is
    joining again (the whole cluster, or its store, was restarted): its tasks stay where they
    are and no new task goes there, as swarm marks every node unknown after an election.
    Afterwards a node down is down, and its tasks are started elsewhere. So is, at once, a node
    in `seen_down`: this porterd saw it go down (the old leader's own node, most often)."""
    if now >= settled_at:
        return nodes
    return [
        node
        if node.ready or node.id in seen_down
        else dataclasses.replace(node, ready=True, availability="pause")
        for node in nodes
    ]


class Departures:
    """The nodes this porterd saw go down while it ran: their liveness key (`alive_prefix` +
    node id) deleted, its lease expired or revoked, under the node's watch of the store. A new
    leader need not wait for these to join again, as it does for the nodes it found down: they
    were up, and are gone. One that comes back is taken off."""

    def __init__(self, alive_prefix: str) -> None:
        self.alive_prefix = alive_prefix
        self.nodes: frozenset[str] = frozenset()  # replaced whole: read from other threads

    def changed(self, event: WatchEvent) -> None:
        """A subscriber of the node's StoreWatch."""
        if not event.kv.key.startswith(self.alive_prefix):
            return
        node_id = event.kv.key[len(self.alive_prefix) :]
        if event.type == "DELETE":
            self.nodes = self.nodes | {node_id}
        else:
            self.nodes = self.nodes - {node_id}
