"""Service events on every node: the reconciler runs on the leading node only, but `docker
events` may ask any node, as it may ask any manager of a swarm.

The leader writes each event to etcd, on a lease of its own (TTL seconds, so that events do
not pile up in the store), and every node follows those keys with a watch and publishes what
comes on its own event bus, the leader included:

    PREFIX/events/STAMP-ID    {"Type", "Action", "Actor", "Attributes"}

When the store cannot be written the event is published on the leader's bus alone, and the
failure logged: an event is never what makes a reconciler round fail.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from porterd.cluster.etcd import EtcdClient, EtcdError, WatchEvent
from porterd.cluster.wake import StoreWatch

if TYPE_CHECKING:
    from porterd.events import EventBus

log = logging.getLogger(__name__)

TTL = 60


class ClusterEvents:
    def __init__(
        self, etcd: EtcdClient, prefix: str, bus: EventBus, watch: StoreWatch | None = None
    ) -> None:
        """`watch`: the node's watch of the cluster's prefix, if it has one to share."""
        self.etcd = etcd
        self.bus = bus
        self.prefix = prefix.rstrip("/") + "/events/"
        self._watch = watch or StoreWatch(etcd, self.prefix)
        self._watch.subscribe(self._arrived)

    def publish(
        self, type: str, action: str, actor_id: str, attributes: Mapping[str, str] | None = None
    ) -> None:
        """The reconciler's Publish: the event to every node."""
        event = {
            "Type": type,
            "Action": action,
            "Actor": actor_id,
            "Attributes": dict(attributes or {}),
        }
        key = f"{self.prefix}{time.time_ns():020d}-{secrets.token_hex(4)}"
        try:
            self.etcd.put(key, json.dumps(event), lease=self.etcd.grant(TTL))
        except EtcdError as error:
            log.warning("service event %s %s published on this node only: %s", type, action, error)
            self.bus.publish(type, action, actor_id, attributes)

    def _arrived(self, change: WatchEvent) -> None:
        if change.type != "PUT" or not change.kv.key.startswith(self.prefix):
            return  # a lease that ended, or another key of a shared watch
        try:
            event = json.loads(change.kv.value)
            self.bus.publish(event["Type"], event["Action"], event["Actor"], event["Attributes"])
        except (ValueError, KeyError, TypeError) as error:
            log.warning("malformed cluster event at %s: %s", change.kv.key, error)

    def start(self) -> None:
        self._watch.start()

    @property
    def following(self) -> bool:
        """Whether the watch has its starting point: every event written after is seen."""
        return self._watch.revision > 0

    def stop(self) -> None:
        self._watch.stop()
