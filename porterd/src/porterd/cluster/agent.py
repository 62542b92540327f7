"""The agent every node runs: it starts the tasks assigned to its node, stops the ones shut
down or removed, and reports what their containers do (state, exit code, health, CPU use).
A task whose container turns unhealthy fails and its container is stopped, as in swarm
(porterd.cluster.unhealthy).

Containers carry swarm's labels (`com.docker.swarm.task.id`...), so an agent started again
after its porterd died finds the containers of its tasks and adopts them. When the store
cannot be reached a round is skipped: containers keep running as they are.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from porterd.cluster import unhealthy
from porterd.cluster.loop import Periodic
from porterd.cluster.routing import ingress_ports
from porterd.cluster.store import ClusterStore, now
from porterd.errors import DaemonError

log = logging.getLogger(__name__)

TASK_LABEL = "com.docker.swarm.task.id"
STARTING = frozenset({"new", "pending", "assigned", "accepted", "preparing", "starting"})
# Containers are started one at a time, off the agent's loop (so that reports and removals go
# on meanwhile): two at once made 30 replicas over three porterd take 26.7 s instead of 6.4 s
# in bench/cluster, the starts contending inside porterd.
STARTS_AT_ONCE = 1
CPU_REPORT_STEP = 5.0  # percent: smaller changes of CPU use are not written to the store
# Seconds a task in the routing mesh keeps running after it was told to stop: every node's
# mesh takes it out of rotation first (within a round), and connections under way end.
DRAIN = 2.0
# Woken by changes of its tasks and by its containers' events, the agent still runs a round
# this often: CPU use, sampled every 5 s, is reported on these rounds.
AGENT_INTERVAL = 2.0


@dataclass(frozen=True)
class Observed:
    """What a task's container is doing, as the node's container service sees it."""

    container_id: str
    running: bool
    exit_code: int = 0
    error: str = ""
    health: str | None = None
    cpu_percent: float | None = None
    ports: tuple[tuple[str, int, int], ...] = ()  # (protocol, target, host port) published


class TaskRuntime(Protocol):
    """What the agent needs of the node's containers."""

    def run(self, name: str, body: dict[str, Any]) -> str:
        """Create and start a container from an Engine API create body; its id."""
        ...

    def observe(self) -> dict[str, Observed]:
        """The containers that belong to tasks, by task id."""
        ...

    def remove(self, container_id: str) -> None:
        """Stop and remove a container (gone already is not an error)."""
        ...


def container_name(task: dict[str, Any]) -> str:
    slot = task.get("Slot") or task["NodeID"]
    return f"{task['ServiceName']}.{slot}.{task['ID']}"


def container_body(task: dict[str, Any], host_ip: str = "") -> dict[str, Any]:
    """The Engine API create body for a task, as swarm's executor builds it. Its ports in the
    routing mesh are published on `host_ip` (all addresses if ""): the node's own address
    spares each task a userland proxy for loopback, which the mesh never uses (it reaches a
    replica of its node at the container's address, others at NODE-ADDR:HOST-PORT)."""
    spec = task["Spec"].get("ContainerSpec", {})
    limits = task["Spec"].get("Resources", {}).get("Limits") or {}
    labels = {
        **(spec.get("Labels") or {}),
        "com.docker.swarm.service.id": task["ServiceID"],
        "com.docker.swarm.service.name": task["ServiceName"],
        "com.docker.swarm.task.id": task["ID"],
        "com.docker.swarm.task.name": container_name(task),
        "com.docker.swarm.node.id": task["NodeID"],
    }
    host: dict[str, Any] = {"RestartPolicy": {"Name": "no"}}
    if limits.get("NanoCPUs"):
        host["NanoCpus"] = limits["NanoCPUs"]
    if limits.get("MemoryBytes"):
        host["Memory"] = limits["MemoryBytes"]
    if spec.get("Mounts"):
        host["Mounts"] = spec["Mounts"]
    # Each port the routing mesh publishes, on an ephemeral port of the task's node.
    binding = {"HostIp": host_ip, "HostPort": ""} if host_ip else {"HostPort": ""}
    ports = {
        f"{port['TargetPort']}/{port.get('Protocol', 'tcp')}": [dict(binding)]
        for port in ingress_ports(task.get("Endpoint", {}).get("Spec", {}))
    }
    if ports:
        host["PortBindings"] = ports
    body: dict[str, Any] = {"Image": spec["Image"], "Labels": labels, "HostConfig": host}
    for ours, theirs in (
        ("Command", "Entrypoint"),
        ("Args", "Cmd"),
        ("Env", "Env"),
        ("Dir", "WorkingDir"),
        ("User", "User"),
        ("Hostname", "Hostname"),
        ("Healthcheck", "Healthcheck"),
        ("TTY", "Tty"),
    ):
        if spec.get(ours):
            body[theirs] = spec[ours]
    # The task's overlays come after the node's default bridge, which keeps its default route
    # and the address its node reaches it at (as docker_gwbridge does); on each overlay the
    # service's name answers the task (the embedded DNS).
    networks = task["Spec"].get("Networks") or []
    if networks:
        body["NetworkingConfig"] = {
            "EndpointsConfig": {
                n["Target"]: {"Aliases": [task["ServiceName"], *(n.get("Aliases") or [])]}
                for n in networks
            }
        }
    return body


def observed_status(task: dict[str, Any], seen: Observed | None) -> dict[str, Any] | None:
    """The task's Status after what its container was seen doing, or None if unchanged."""
    status = task["Status"]
    if seen is None:
        if status["State"] in ("running", "starting") and task["DesiredState"] == "running":
            return {"State": "failed", "Message": "container vanished", "Err": "container vanished"}
        return None
    container = {"ContainerID": seen.container_id, "ExitCode": seen.exit_code}
    if seen.health:
        container["Health"] = seen.health
    ports = [
        {"Protocol": p, "TargetPort": t, "PublishedPort": h, "PublishMode": "host"}
        for p, t, h in seen.ports
    ]
    if seen.running:
        state, message = "running", "started"
    elif seen.exit_code == 0:
        state, message = "complete", "finished"
    else:
        state, message = "failed", f"task exited with code {seen.exit_code}"
    new = {"State": state, "Message": message, "ContainerStatus": container}
    if ports and seen.running:
        new["PortStatus"] = {"Ports": ports}
    if state == "failed":
        new["Err"] = seen.error or message
    if seen.cpu_percent is not None:
        new["Usage"] = {"CPUPercent": round(seen.cpu_percent, 1)}
    if _same(status, new):
        return None
    return new


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    if any(old.get(key) != new.get(key) for key in ("State", "ContainerStatus", "PortStatus")):
        return False
    before = old.get("Usage", {}).get("CPUPercent")
    after = new.get("Usage", {}).get("CPUPercent")
    if (before is None) != (after is None):
        return False
    return before is None or abs(before - after) < CPU_REPORT_STEP


class Agent:
    def __init__(
        self,
        store: ClusterStore,
        node_id: str,
        runtime: TaskRuntime,
        *,
        interval: float = AGENT_INTERVAL,
        host_ip: str = "",
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.runtime = runtime
        self.host_ip = host_ip  # where its tasks' ports in the mesh are published
        self.loop = Periodic("cluster-agent", self.sync_once, interval)
        self._lock = threading.Lock()
        self._removing: set[str] = set()
        self._starting: set[str] = set()
        self._starter = ThreadPoolExecutor(STARTS_AT_ONCE, thread_name_prefix="cluster-start")

    def sync_once(self) -> None:
        """Bring this node's containers to its tasks and report their state."""
        # The starts under way are taken before the containers are listed: a start that ends
        # in between is then either still in this set or already in the listing, never in
        # neither (which would start its task a second time).
        with self._lock:
            starting = set(self._starting)
        tasks = [task for task in self.store.tasks() if task["NodeID"] == self.node_id]
        observed = self.runtime.observe()
        for task in tasks:
            self._sync_task(task, observed.get(task["ID"]), starting)
        known = {task["ID"] for task in tasks}
        for task_id, seen in observed.items():
            if task_id not in known:
                log.info("removing container %s of deleted task %s", seen.container_id, task_id)
                self.remove(seen.container_id)

    def remove(self, container_id: str, drain: float = 0.0) -> None:
        """Stop and remove a container on a thread of its own, `drain` seconds from now: a
        stop waits up to its grace period, and other tasks of the node must not wait for it."""
        with self._lock:
            if container_id in self._removing:
                return
            self._removing.add(container_id)

        def run() -> None:
            try:
                time.sleep(drain)
                self.runtime.remove(container_id)
            except Exception:
                log.exception("removing container %s failed", container_id)
            finally:
                with self._lock:
                    self._removing.discard(container_id)

        threading.Thread(target=run, name=f"remove-{container_id[:12]}", daemon=True).start()

    def _sync_task(self, task: dict[str, Any], seen: Observed | None, starting: set[str]) -> None:
        if task["DesiredState"] != "running":
            if seen is not None:
                self.remove(seen.container_id, DRAIN if seen.ports and seen.running else 0.0)
            if task["Status"]["State"] not in ("shutdown", "complete", "failed", "rejected"):
                self._report(task, {"State": "shutdown", "Message": "shutdown"})
            return
        with self._lock:
            # A start under way reports for itself: its container may not be listed yet, or
            # be listed as created and not yet started (which would read as finished).
            if task["ID"] in starting or task["ID"] in self._starting:
                return
            if seen is None and task["Status"]["State"] in STARTING:
                self._starting.add(task["ID"])
                self._starter.submit(self._start, task)
                return
        if seen is not None and unhealthy.condemned(task, seen.running, seen.health):
            # Out of the mesh's rotation already (it is unhealthy): no drain before the stop.
            failure = unhealthy.failure(task, seen.container_id)
            if failure is None or self._report(task, failure):
                self.remove(seen.container_id)
            return
        new = observed_status(task, seen)
        if new is not None:
            self._report(task, new)

    def _start(self, task: dict[str, Any]) -> None:
        """Create and start a task's container, on the starter's thread."""
        try:
            body = container_body(task, self.host_ip)
            container_id = self.runtime.run(container_name(task), body)
        except DaemonError as error:
            self._report(task, {"State": "rejected", "Message": "start failed", "Err": str(error)})
        except Exception as error:
            log.exception("starting task %s failed", task["ID"])
            self._report(task, {"State": "rejected", "Message": "start failed", "Err": str(error)})
        else:
            new = observed_status(task, Observed(container_id, running=True))
            if new is not None:
                self._report(task, new)
        finally:
            with self._lock:
                self._starting.discard(task["ID"])

    def _report(self, task: dict[str, Any], status: dict[str, Any]) -> bool:
        status["Timestamp"] = now()
        if not self.store.write_tasks([{**task, "Status": status}]):
            log.debug("task %s changed meanwhile; reporting again next round", task["ID"])
            return False
        return True

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
        self._starter.shutdown(wait=True)

    def remove_all(self) -> None:
        """Stop and remove every task container of the node, all at once, and return when they
        are gone: the node left the cluster (its record was deleted), whose tasks run on other
        nodes now, as a swarm node leaving shuts its tasks down. Their overlay addresses and
        published ports go with them. Called once the agent is stopped (no start under way)."""
        containers = [seen.container_id for seen in self.runtime.observe().values()]
        if containers:
            log.info("node left the cluster: removing its %d task container(s)", len(containers))
        removals = [
            threading.Thread(target=self._remove_now, args=(container_id,), daemon=True)
            for container_id in containers
        ]
        for removal in removals:
            removal.start()
        for removal in removals:
            removal.join()

    def _remove_now(self, container_id: str) -> None:
        try:
            self.runtime.remove(container_id)
        except Exception:
            log.exception("removing container %s failed", container_id)
