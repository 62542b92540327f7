"""A node's place in the cluster: its lease, renewed in the background, and the leader
election run on that same lease (the leader key dies with the node that holds it).

While the store cannot be reached the node keeps running what it runs and keeps trying; when
its lease expired meanwhile it takes a new one and marks itself alive again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from porterd.cluster.etcd import EtcdError, LeaseNotFound
from porterd.cluster.store import ClusterStore

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
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.hostname = hostname
        self.addr = addr
        self.resources = resources or {}
        self.ttl = ttl
        self.on_leading = on_leading
        self.lease = 0
        self.leading = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def join(self) -> None:
        """Register the node on a fresh lease and start renewing it (and campaigning)."""
        self.lease = self.store.etcd.grant(self.ttl)
        self.store.register_node(
            self.node_id,
            hostname=self.hostname,
            addr=self.addr,
            resources=self.resources,
            lease=self.lease,
        )
        self.tick()
        self._thread = threading.Thread(
            target=self._run, name=f"cluster-lease-{self.node_id[:8]}", daemon=True
        )
        self._thread.start()

    def tick(self) -> None:
        """Renew the lease once (a new one if it expired) and campaign for leadership."""
        try:
            self.store.etcd.keepalive(self.lease)
        except LeaseNotFound:
            log.warning("cluster lease of node %s expired; joining again", self.node_id)
            self.lease = self.store.etcd.grant(self.ttl)
            self.store.mark_alive(self.node_id, self.addr, self.lease)
        self._set_leading(self.store.campaign(self.node_id, self.lease))

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

    def abandon(self) -> None:
        """Stop renewing without telling anyone (as a killed porterd would)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def leave(self) -> None:
        """Stop renewing and end the lease: the node is down and leads no more at once."""
        self.abandon()
        try:
            self.store.etcd.revoke(self.lease)
        except EtcdError as error:
            log.warning("cluster store: %s; the node's lease will expire by itself", error)
        self._set_leading(False)
