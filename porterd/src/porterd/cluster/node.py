"""This porterd as a node of the cluster: `porterd --cluster-store URLS --advertise-addr ADDR`.

It joins with a lease it renews, campaigns for leadership (running the reconciler while it
leads) and runs the agent for the tasks assigned to it. Its id is kept under the data root,
so a porterd started again is the same node and adopts its tasks' containers.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from porter_image.distribution.auth import Credentials

from porterd.cluster.agent import AGENT_INTERVAL, Agent, TaskRuntime
from porterd.cluster.etcd import EtcdClient, EtcdError
from porterd.cluster.images import ImageSource, check_image
from porterd.cluster.logs import TaskLogs
from porterd.cluster.loop import SAFETY_INTERVAL
from porterd.cluster.membership import DEFAULT_TTL, Membership
from porterd.cluster.mesh import MeshHost, RoutingMesh
from porterd.cluster.peer_logs import LogPeers
from porterd.cluster.reconciler import Reconciler
from porterd.cluster.service_events import ClusterEvents
from porterd.cluster.store import DEFAULT_PREFIX, ClusterStore, new_id
from porterd.cluster.wake import StoreWatch, Wakeups
from porterd.errors import InvalidParameter

if TYPE_CHECKING:
    from porterd.events import EventBus


def parse_endpoints(text: str) -> list[str]:
    """`--cluster-store http://a:2379,http://b:2379` as a list; one clear error if malformed."""
    endpoints = [item.strip().rstrip("/") for item in text.split(",") if item.strip()]
    if not endpoints:
        raise InvalidParameter("--cluster-store needs at least one etcd URL")
    for endpoint in endpoints:
        scheme, sep, rest = endpoint.partition("://")
        if scheme not in ("http", "https") or not sep or not rest:
            raise InvalidParameter(
                f"invalid --cluster-store URL {endpoint!r}: expected http://HOST:PORT"
            )
    return endpoints


def node_id(data_root: Path) -> str:
    """This node's id, made once and kept in DATA_ROOT/cluster/node-id."""
    path = Path(data_root) / "cluster" / "node-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        made = new_id()
        temporary = path.with_suffix(".tmp")
        temporary.write_text(made + "\n")
        temporary.rename(path)
        return made


def mesh_host_ip(advertise_addr: str) -> str:
    """Where the node's tasks publish their ports in the routing mesh: its advertised address
    when that is one of its own, not loopback (other nodes reach the tasks there, and no
    userland proxy is needed); otherwise "", every address, as before (an advertised address
    may be a NAT's in front of the node)."""
    try:
        if ipaddress.ip_address(advertise_addr).is_loopback:
            return ""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((advertise_addr, 0))
    except (ValueError, OSError, OverflowError):
        return ""
    return advertise_addr


def host_resources() -> dict[str, int]:
    memory = 0
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    memory = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    return {"NanoCPUs": (os.cpu_count() or 1) * 1_000_000_000, "MemoryBytes": memory}


class ClusterNode:
    def __init__(
        self,
        *,
        endpoints: list[str],
        advertise_addr: str,
        data_root: Path,
        runtime: TaskRuntime | None = None,
        images: ImageSource | None = None,
        events: EventBus | None = None,
        mesh: MeshHost | None = None,
        hostname: str | None = None,
        ttl: int = DEFAULT_TTL,
        interval: float = SAFETY_INTERVAL,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        if not advertise_addr:
            raise InvalidParameter("--cluster-store needs --advertise-addr ADDR")
        self.etcd = EtcdClient(endpoints)
        self.store = ClusterStore(self.etcd, prefix)
        self.node_id = node_id(data_root)
        self.advertise_addr = advertise_addr
        self.images = images
        self.task_logs = runtime if isinstance(runtime, TaskLogs) else None
        self.peer_logs = (
            LogPeers(self.store, self.node_id, advertise_addr, self.task_logs, Path(data_root))
            if self.task_logs is not None
            else None
        )
        # One watch of the cluster's keys, for the loops' wakeups, the mesh and the events.
        self.watch = StoreWatch(self.etcd, self.store.prefix)
        # The leader's service events reach every node's bus (through etcd).
        self.service_events = (
            ClusterEvents(self.etcd, prefix, events, self.watch) if events else None
        )
        publish = self.service_events.publish if self.service_events is not None else None
        self.reconciler = Reconciler(self.store, publish=publish, interval=interval, grace=ttl)
        self.membership = Membership(
            self.store,
            self.node_id,
            hostname=hostname or socket.gethostname(),
            addr=advertise_addr,
            resources=host_resources(),
            ttl=ttl,
            on_leading=self.reconciler.leading,
            on_removed=self._removed,
        )
        self._parts_lock = threading.Lock()
        self._parts_stopped = False
        agent_interval = min(interval, AGENT_INTERVAL)
        self.agent = (
            Agent(
                self.store,
                self.node_id,
                runtime,
                interval=agent_interval,
                host_ip=mesh_host_ip(advertise_addr),
            )
            if runtime
            else None
        )
        # Before the wakeups: a reconciler woken by a node's going down knows it went down.
        self.watch.subscribe(self.reconciler.departures.changed)
        # The loops run when what they act on changes, not on every tick of `interval`.
        self.wakeups = Wakeups(
            self.etcd,
            self.store.prefix,
            self.node_id,
            self.reconciler.loop,
            self.agent.loop if self.agent else None,
            events,
            watch=self.watch,
        )
        self.mesh = RoutingMesh(self.store, self.node_id, mesh, watch=self.watch) if mesh else None

    def start(self) -> None:
        """Join the cluster, now or, if the store does not answer yet, once it does."""
        self.membership.join()
        if self.peer_logs is not None:
            self.peer_logs.start()
        if self.service_events is not None:
            self.service_events.start()
        self.wakeups.start()
        if self.agent is not None:
            self.agent.start()
        if self.mesh is not None:
            self.mesh.start()

    def stop(self) -> None:
        """Leave (the node is down at once); the tasks' containers keep running."""
        self._stop_parts()
        self.membership.leave()

    def _removed(self) -> None:
        """The node's record was deleted (`node rm --force`): it left the cluster, whose tasks
        run elsewhere now; its task containers go, after its mesh's rules."""
        self._stop_parts()
        if self.agent is not None:
            self.agent.remove_all()

    def _stop_parts(self) -> None:
        """Stop what the node runs as a member, once: when porterd stops, or when the node's
        record was deleted (`node rm --force`) and it left the cluster."""
        with self._parts_lock:
            if self._parts_stopped:
                return
            self._parts_stopped = True
        if self.agent is not None:
            self.agent.stop()
        if self.mesh is not None:
            self.mesh.stop()
        self.reconciler.loop.stop()
        if self.peer_logs is not None:
            self.peer_logs.stop()
        if self.service_events is not None:
            self.service_events.stop()
        self.wakeups.stop()

    def check_image(self, image: str, credentials: Credentials | None = None) -> None:
        """Refuse (400) a service's image that neither this node nor its registry has; a node
        made without an image store (tests of the store alone) takes the image as given."""
        if self.images is not None:
            check_image(self.images, image, credentials)

    def swarm_info(self) -> dict[str, Any]:
        """/info's `Swarm` section, as dockerd fills it on a manager."""
        try:
            nodes = self.store.nodes()
        except EtcdError as error:
            return {"NodeID": self.node_id, "LocalNodeState": "error", "Error": str(error)}
        managers = [n for n in nodes if n["Spec"].get("Role") == "manager"]
        return {
            "NodeID": self.node_id,
            "NodeAddr": self.advertise_addr,
            "LocalNodeState": "active",
            "ControlAvailable": True,
            "Error": "",
            "RemoteManagers": [
                {"NodeID": n["ID"], "Addr": n.get("Addr", "")}
                for n in managers
                if n["Status"]["State"] == "ready"
            ],
            "Nodes": len(nodes),
            "Managers": len(managers),
        }
