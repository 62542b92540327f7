"""What wakes the agent and the reconciler, instead of polling the store: an etcd watch of the
cluster's keys, and for the agent the events of its node's task containers.

- A service, a task, a node or a node's liveness that changes wakes the reconciler; a task of
  this node that changes (or any task removed) wakes the agent; a task container that dies,
  is removed or changes health wakes the agent.
- The watch resumes from the revision after the last change it saw when its stream breaks
  (the member it read from was killed) or stays silent for `idle` seconds. When it cannot know
  what it missed (at start, or once the store compacted that revision away) it wakes both
  loops, whose rounds read everything again, and watches from the store's revision read first.
- The agent's listener on the daemon's event bus, if the bus drops it for falling behind,
  subscribes again and wakes the agent for a full round.
- The loops' own slow rounds (loop.SAFETY_INTERVAL) stay as a safety net; the reconciler asks
  for an earlier round when it waits for a time (a new leader's grace, an update's delay, an
  autoscaling window): `due_in`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from porterd.cluster import spec as specs
from porterd.cluster.agent import TASK_LABEL
from porterd.cluster.etcd import EtcdClient, EtcdError, WatchCompacted, WatchEvent, encode
from porterd.cluster.loop import Periodic

if TYPE_CHECKING:
    from porterd.events import Event, EventBus, Subscription

log = logging.getLogger(__name__)

IDLE = 10.0  # seconds a silent watch stream is kept before it is opened again
RETRY = 1.0  # seconds between attempts while the store cannot be reached
AUTOSCALE_ROUND = 1.0  # seconds between the rounds of a cluster with an autoscaled service
RECONCILER_KEYS = frozenset({"services", "tasks", "nodes", "alive"})
CONTAINER_ACTIONS = frozenset({"die", "destroy", "oom"})


def concerns(event: WatchEvent, prefix: str, node_id: str) -> tuple[bool, bool]:
    """Whether a change in the store wakes the reconciler, and whether it wakes the agent of
    node `node_id`."""
    if not event.kv.key.startswith(prefix):
        return False, False
    kind = event.kv.key[len(prefix) :].split("/", 1)[0]
    if kind != "tasks":
        return kind in RECONCILER_KEYS, False
    return True, event.type == "DELETE" or _node_of(event.kv.value) == node_id


def _node_of(value: bytes) -> str | None:
    try:
        task = json.loads(value)
    except ValueError:
        return None
    return task.get("NodeID") if isinstance(task, dict) else None


def wakes_agent(event: Event) -> bool:
    """Whether a daemon event is a task container's that the agent must report."""
    return (
        event.type == "container"
        and TASK_LABEL in event.attributes
        and (event.action in CONTAINER_ACTIONS or event.action.startswith("health_status"))
    )


def due_in(services: list[dict[str, Any]], now: float, settled_at: float = 0.0) -> float | None:
    """Seconds until the reconciler waits for a time (the end of a new leader's grace at
    `settled_at`, a service's next update batch, the next look at an autoscaled service's
    load), or None when it waits for none."""
    waits = [settled_at - now] if now < settled_at else []
    for service in services:
        next_batch = (service.get("UpdateStatus") or {}).get("NextBatchAt")
        if next_batch:
            waits.append(max(next_batch - now, 0.0))
        if specs.autoscale_policy(service["Spec"]) is not None:
            waits.append(AUTOSCALE_ROUND)
    return min(waits) if waits else None


Changed = Callable[[WatchEvent], None]
Resync = Callable[[], None]


def _nothing() -> None:
    pass


class StoreWatch:
    """A watch of every key under `prefix` on a thread of its own, that survives the loss of
    the member it reads from and the compaction of the revision it was at.

    A node holds one, over the cluster's whole prefix, for all its parts (the loops' wakeups,
    the routing mesh, the service events): each subscribes with what it does on a change and
    on a full read, and starts and stops the watch, which runs while any of them has it
    started. One stream per node instead of one per part: etcd keeps fewer watchers and the
    node reads and decodes each change once."""

    def __init__(
        self,
        etcd: EtcdClient,
        prefix: str,
        changed: Changed | None = None,
        resync: Resync = _nothing,
        *,
        idle: float = IDLE,
        retry: float = RETRY,
    ) -> None:
        self.etcd = etcd
        self.prefix = prefix
        self.idle = idle
        self.retry = retry
        self.revision = 0  # the last revision seen; 0 until read
        self._subscribers: list[tuple[Changed, Resync]] = []
        if changed is not None:
            self.subscribe(changed, resync)
        self._users = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, changed: Changed, resync: Resync = _nothing) -> None:
        """Have `changed` called with each change and `resync` on each full read."""
        self._subscribers.append((changed, resync))

    def start(self) -> None:
        """Follow the store (once for all who started it)."""
        with self._lock:
            self._users += 1
            if self._users > 1:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="cluster-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop following once no one else has it started (the thread ends once its stream
        answers or goes idle)."""
        with self._lock:
            self._users = max(self._users - 1, 0)
            if self._users == 0:
                self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.follow()
            except WatchCompacted as error:
                log.info("cluster watch: %s; reading everything again", error)
                self.revision = 0
            except EtcdError as error:
                log.warning("cluster watch: %s; trying again in %gs", error, self.retry)
                self._stop.wait(self.retry)
            except Exception:
                log.exception("cluster watch failed; trying again in %gs", self.retry)
                self._stop.wait(self.retry)

    def follow(self) -> None:
        """Read one watch stream until it ends, starting over with a full read if needed."""
        if self.revision == 0:
            self.revision = self.current_revision()
            for _, resync in self._subscribers:
                self._call(resync)
        stream = self.etcd.watch(
            self.prefix, prefix=True, start_revision=self.revision + 1, idle=self.idle
        )
        for event in stream:
            if self._stop.is_set():
                return
            self.revision = max(self.revision, event.kv.mod_revision)
            for changed, _ in self._subscribers:
                self._call(changed, event)

    @staticmethod
    def _call(action: Callable[..., None], *args: Any) -> None:
        """One subscriber's action; its failure is logged and keeps no other from the change."""
        try:
            action(*args)
        except Exception:
            log.exception("cluster watch: a subscriber failed on a change")

    def current_revision(self) -> int:
        answer = self.etcd.call("/v3/kv/range", {"key": encode(self.prefix), "count_only": True})
        return int(answer["header"]["revision"])


class Wakeups:
    """Wakes a node's reconciler and agent loops on the changes each acts on."""

    def __init__(
        self,
        etcd: EtcdClient,
        prefix: str,
        node_id: str,
        reconciler: Periodic,
        agent: Periodic | None = None,
        events: EventBus | None = None,
        *,
        idle: float = IDLE,
        watch: StoreWatch | None = None,
    ) -> None:
        self.prefix = prefix
        self.node_id = node_id
        self.reconciler = reconciler
        self.agent = agent
        self.events = events
        self.watch = watch or StoreWatch(etcd, prefix, idle=idle)
        self.watch.subscribe(self._changed, self._resync)
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self.watch.start()
        if self.agent is not None and self.events is not None:
            _, subscription = self.events.subscribe()
            self._listener = threading.Thread(
                target=self._listen, args=(subscription,), name="cluster-events", daemon=True
            )
            self._listener.start()

    def stop(self) -> None:
        self._stop.set()
        self.watch.stop()
        if self._listener is not None:
            self._listener.join()
            self._listener = None

    def _changed(self, event: WatchEvent) -> None:
        reconciler, agent = concerns(event, self.prefix, self.node_id)
        if reconciler:
            self.reconciler.wake()
        if agent and self.agent is not None:
            self.agent.wake()

    def _resync(self) -> None:
        self.reconciler.wake()
        if self.agent is not None:
            self.agent.wake()

    def _listen(self, subscription: Subscription) -> None:
        """Wake the agent on its task containers' events until stopped. A listener the bus
        dropped for falling behind subscribes again and wakes the agent once, for a round
        that reads every task afresh in place of the events it lost."""
        assert self.events is not None and self.agent is not None
        while True:
            try:
                while not self._stop.is_set() and not subscription.closed:
                    event = subscription.next_event(0.5)
                    if event is not None and wakes_agent(event):
                        self.agent.wake()
            finally:
                self.events.unsubscribe(subscription)
            if self._stop.is_set() or not subscription.dropped:
                return  # stopped, or the bus closed as the daemon stops
            log.warning("cluster: %s; listening again", subscription.dropped)
            _, subscription = self.events.subscribe()
            self.agent.wake()
