"""What a node's overlays need to know of the cluster, kept from the node's watch of the store
(porterd.cluster.wake.StoreWatch): the overlays' address leases, the live nodes and their
addresses, and the tasks (whose state keeps their containers in or out of the DNS rotation).

The embedded DNS answers service names from it and the VXLAN devices' flood entries follow it,
so neither asks etcd on its way: without quorum (when etcd answers nothing) the names go on
resolving to the tasks as the node last saw them, as the tasks themselves go on running.

A full read (one transaction, so one revision) fills it, on the watch's start and whenever the
watch cannot tell what it missed; the watch's changes after that revision are applied on top.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from porterd.cluster.etcd import EtcdClient, Get, KeyValue, WatchEvent

LEASES, ALIVE, TASKS = "overlay-leases", "alive", "tasks"
KINDS = (LEASES, ALIVE, TASKS)


class OverlayView:
    def __init__(self, etcd: EtcdClient, prefix: str) -> None:
        self.etcd = etcd
        self.prefix = prefix.rstrip("/") + "/"
        self._lock = threading.Lock()
        self._reading = threading.Lock()  # one full read at a time (the watch's, a round's)
        self._kinds: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}  # key -> value
        self._read_at = 0  # the revision of the last full read; 0 until one succeeds
        self._during_read: list[WatchEvent] | None = None  # changes seen while reading

    @property
    def filled(self) -> bool:
        """Whether the view holds a full read and every change since: False before the first
        read succeeds, and again once a read the watch asked for fails (the watch goes on
        from a later revision, so the changes in between are missed until a read succeeds)."""
        return self._read_at > 0

    def resync(self) -> None:
        """Read every lease, live node and task afresh (`EtcdError` if the store cannot
        answer: the view keeps what it had for the DNS, but is no longer `filled`, so that the
        overlay round reads it again)."""
        with self._reading:
            with self._lock:
                self._during_read = []
            try:
                gets = [Get(self.prefix + kind + "/", prefix=True) for kind in KINDS]
                result = self.etcd.txn([], gets)
            except BaseException:
                with self._lock:
                    self._during_read = None
                    self._read_at = 0
                raise
            with self._lock:
                for kind, kvs in zip(KINDS, result.ranges, strict=True):
                    self._kinds[kind] = {kv.key: _value(kind, kv) for kv in kvs}
                self._read_at = result.revision
                seen, self._during_read = self._during_read or [], None
                for event in seen:
                    self._apply(event)

    def changed(self, event: WatchEvent) -> bool:
        """Apply a change seen by the watch; whether it was one the view keeps."""
        with self._lock:
            if self._during_read is not None:
                self._during_read.append(event)
            return self._apply(event)

    def _apply(self, event: WatchEvent) -> bool:
        kind = self._kind(event.kv.key)
        if kind is None:
            return False
        if event.kv.mod_revision and event.kv.mod_revision <= self._read_at:
            return True  # the full read holds it already
        if event.type == "DELETE":
            self._kinds[kind].pop(event.kv.key, None)
        else:
            self._kinds[kind][event.kv.key] = _value(kind, event.kv)
        return True

    def _kind(self, key: str) -> str | None:
        if not key.startswith(self.prefix):
            return None
        kind = key[len(self.prefix) :].split("/", 1)[0]
        return kind if kind in KINDS else None

    # -- what the overlays read ----------------------------------------------------------------

    def leases(self, network_id: str = "") -> dict[tuple[str, str], dict[str, Any]]:
        """(network id, address) -> the endpoint holding it, of one network or of every one."""
        with self._lock:
            held = list(self._kinds[LEASES].items())
        found = {}
        for key, holder in held:
            network, address = key.rsplit("/", 2)[1:]
            if holder is not None and (not network_id or network == network_id):
                found[(network, address)] = holder
        return found

    def live_nodes(self) -> dict[str, str]:
        """Node id -> the address it advertises, of each node whose lease lives."""
        with self._lock:
            alive = list(self._kinds[ALIVE].items())
        return {key.rsplit("/", 1)[1]: address for key, address in alive}

    def tasks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [task for task in self._kinds[TASKS].values() if task is not None]


def _value(kind: str, kv: KeyValue) -> Any:
    """A key's value as the view keeps it: a live node's address, or a lease's holder or a
    task decoded once (None if it cannot be)."""
    if kind == ALIVE:
        return kv.value.decode(errors="replace")
    try:
        value = json.loads(kv.value)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
