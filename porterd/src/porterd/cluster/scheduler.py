"""Where a service's tasks run: pure functions from (service, nodes, tasks) to a plan.

A replicated service has slots 1..Replicas, each held by one live task; a global service one
task per node that fits. A task is live while it is meant to run (DesiredState running) and
has not ended, on a node that is ready and not drained. Each missing slot goes to the node
that fits (ready, active, constraints, reservations) and holds the fewest of the service's
tasks, then the fewest tasks of all; a task that ended, or whose node went down or was
drained, is shut down (kept as history) and its slot filled elsewhere (a task that ended by
itself: when and if the service's restart policy says, see restart_slots). Tasks of a node
that comes back were shut down when it left, so its agent stops them: no strays.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from porterd.cluster import spec as specs

TERMINAL = frozenset({"complete", "shutdown", "failed", "rejected", "remove", "orphaned"})


@dataclass(frozen=True)
class NodeInfo:
    id: str
    hostname: str = ""
    role: str = "manager"
    ready: bool = True
    availability: str = "active"
    labels: Mapping[str, str] = field(default_factory=dict)
    nano_cpus: int = 0  # 0: not known, no limit
    memory_bytes: int = 0

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> NodeInfo:
        node_spec = node.get("Spec", {})
        description = node.get("Description", {})
        resources = description.get("Resources", {})
        return cls(
            id=node["ID"],
            hostname=description.get("Hostname", ""),
            role=node_spec.get("Role", "manager"),
            ready=node.get("Status", {}).get("State") == "ready",
            availability=node_spec.get("Availability", "active"),
            labels=node_spec.get("Labels") or {},
            nano_cpus=int(resources.get("NanoCPUs", 0)),
            memory_bytes=int(resources.get("MemoryBytes", 0)),
        )

    def attribute(self, key: str) -> str | None:
        """The value a constraint key (without `node.`) names on this node."""
        if key.startswith("labels."):
            return self.labels.get(key.removeprefix("labels."))
        return {
            "id": self.id,
            "hostname": self.hostname,
            "role": self.role,
            "platform.os": "linux",
            "platform.arch": "x86_64",
        }.get(key)


@dataclass(frozen=True)
class Reservation:
    nano_cpus: int = 0
    memory_bytes: int = 0

    @classmethod
    def of(cls, template: dict[str, Any]) -> Reservation:
        reserved = template.get("Resources", {}).get("Reservations") or {}
        return cls(int(reserved.get("NanoCPUs", 0)), int(reserved.get("MemoryBytes", 0)))

    def __add__(self, other: Reservation) -> Reservation:
        return Reservation(self.nano_cpus + other.nano_cpus, self.memory_bytes + other.memory_bytes)


@dataclass
class Plan:
    """What to change: new tasks (slot, node id) and tasks to shut down (id -> why)."""

    create: list[tuple[int | None, str]] = field(default_factory=list)
    shutdown: dict[str, str] = field(default_factory=dict)
    unplaced: int = 0  # slots no node could take
    reason: str = ""  # why some slot was left unplaced
    pending: list[int] = field(default_factory=list)  # the replica slots left unplaced
    waiting: dict[int, dict[str, Any]] = field(default_factory=dict)  # slot -> task on no node

    @property
    def empty(self) -> bool:
        return not self.create and not self.shutdown


def is_live(task: dict[str, Any]) -> bool:
    return task.get("DesiredState") == "running" and task["Status"]["State"] not in TERMINAL


def is_waiting(task: dict[str, Any]) -> bool:
    """Whether a task is kept for a slot on no node yet (porterd.cluster.pending)."""
    return not task.get("NodeID")


def is_current(task: dict[str, Any], service: dict[str, Any]) -> bool:
    """Whether the task is of the service's spec as it is now (see runs_spec)."""
    endpoint = (task.get("Endpoint") or {}).get("Spec", {})
    return runs_spec(task.get("Spec"), endpoint, service["Spec"])


def runs_spec(template: Any, endpoint: Any, spec: dict[str, Any]) -> bool:
    """Whether a task made from `template` and `endpoint` is of the service spec `spec`: its
    task template and its endpoint spec, which a task copies when made (its container
    publishes the target ports), as swarmkit's IsTaskDirty compares both."""
    return template == spec["TaskTemplate"] and endpoint == spec.get("EndpointSpec", {})


def satisfies(node: NodeInfo, template: dict[str, Any]) -> bool:
    """Whether `node` meets the placement constraints of a task template."""
    for constraint in specs.constraints({"TaskTemplate": template}):
        if (node.attribute(constraint.key) == constraint.value) != constraint.equal:
            return False
    return True


def reserved_by_node(tasks: Iterable[dict[str, Any]]) -> dict[str, Reservation]:
    used: dict[str, Reservation] = {}
    for task in tasks:
        if is_live(task):
            node = task["NodeID"]
            used[node] = used.get(node, Reservation()) + Reservation.of(task.get("Spec", {}))
    return used


def room_for(node: NodeInfo, used: Reservation, wanted: Reservation) -> bool:
    cpus_fit = not node.nano_cpus or used.nano_cpus + wanted.nano_cpus <= node.nano_cpus
    memory_fits = not node.memory_bytes or used.memory_bytes + wanted.memory_bytes <= (
        node.memory_bytes
    )
    return cpus_fit and memory_fits


def unsatisfiable(template: dict[str, Any], nodes: Iterable[NodeInfo]) -> str | None:
    """Why no node of the cluster, whatever its state, could ever run this template; or None."""
    nodes = list(nodes)
    if not nodes:
        return None
    matching = [node for node in nodes if satisfies(node, template)]
    if not matching:
        constraints = template.get("Placement", {}).get("Constraints") or []
        return "no node satisfies the constraints " + ", ".join(constraints)
    wanted = Reservation.of(template)
    if not any(room_for(node, Reservation(), wanted) for node in matching):
        return "no node has the resources the service reserves"
    return None


def _eligible(node: NodeInfo) -> bool:
    return node.ready and node.availability == "active"


def _stays(task: dict[str, Any], nodes: Mapping[str, NodeInfo]) -> str | None:
    """Why a live task must be shut down where it is, or None if it may stay."""
    node = nodes.get(task["NodeID"])
    if node is None:
        return "node removed"
    if not node.ready:
        return "node down"
    if node.availability == "drain":
        return "node drained"
    return None


def plan(
    service: dict[str, Any], nodes: Iterable[NodeInfo], tasks: Iterable[dict[str, Any]]
) -> Plan:
    """The changes that bring `service`'s tasks to its spec, given every task of the cluster
    (the other services' count for load and reservations)."""
    nodes_by_id = {node.id: node for node in nodes}
    every = list(tasks)
    own = [task for task in every if task["ServiceID"] == service["ID"]]
    result = Plan()
    live: list[dict[str, Any]] = []
    for task in own:
        if task.get("DesiredState") != "running":
            continue
        if task["Status"]["State"] in TERMINAL:
            result.shutdown[task["ID"]] = f"task {task['Status']['State']}"
            continue
        if is_waiting(task):  # its slot is placed again below
            _wait(task, result)
            continue
        why = _stays(task, nodes_by_id)
        if why is not None:
            result.shutdown[task["ID"]] = why
            continue
        live.append(task)
    replicas = specs.replicas(service["Spec"])
    if replicas is None:
        wanted = _plan_global(service, nodes_by_id, live, result)
    else:
        wanted = _plan_replicated(service, replicas, live, result)
    for slot, task in result.waiting.items():
        if slot not in wanted:  # scaled away, or a task on a node holds the slot meanwhile
            scaled_away = replicas is None or not 1 <= slot <= replicas
            result.shutdown[task["ID"]] = "scaled down" if scaled_away else "replaced"
    _place(service, wanted, nodes_by_id, every, result)
    return result


def _wait(task: dict[str, Any], result: Plan) -> None:
    """Keep a task waiting for a node as its slot's: the newest of a slot (a start-first
    update's), the others go."""
    slot = int(task.get("Slot") or 0)
    held = result.waiting.get(slot)
    if held is not None:
        older, task = sorted((held, task), key=lambda t: t.get("CreatedAt", ""))
        result.shutdown[older["ID"]] = "replaced"
    result.waiting[slot] = task


def _plan_replicated(
    service: dict[str, Any], replicas: int, live: list[dict[str, Any]], result: Plan
) -> list[int | None]:
    by_slot: dict[int, list[dict[str, Any]]] = {}
    for task in live:
        by_slot.setdefault(int(task.get("Slot") or 0), []).append(task)
    for slot, holders in by_slot.items():
        if slot < 1 or slot > replicas:
            for task in holders:
                result.shutdown[task["ID"]] = "scaled down"
        elif len(holders) > 1:
            _settle_slot(service, holders, result)
    return [slot for slot in range(1, replicas + 1) if slot not in by_slot]


def _settle_slot(service: dict[str, Any], holders: list[dict[str, Any]], result: Plan) -> None:
    """Several live tasks in one slot (a start-first update, or a race): once a task of the
    current spec runs, the others go; until then they all stay."""
    running = [t for t in holders if is_current(t, service) and t["Status"]["State"] == "running"]
    if not running:
        return
    keep = max(running, key=lambda task: task.get("CreatedAt", ""))
    for task in holders:
        if task is not keep:
            result.shutdown[task["ID"]] = "replaced"


def _plan_global(
    service: dict[str, Any],
    nodes: Mapping[str, NodeInfo],
    live: list[dict[str, Any]],
    result: Plan,
) -> list[int | None]:
    template = service["Spec"]["TaskTemplate"]
    by_node: dict[str, list[dict[str, Any]]] = {}
    for task in live:
        by_node.setdefault(task["NodeID"], []).append(task)
    for node_id, holders in by_node.items():
        if not satisfies(nodes[node_id], template):
            for task in holders:
                result.shutdown[task["ID"]] = "node no longer satisfies the constraints"
        elif len(holders) > 1:
            _settle_slot(service, holders, result)
    covered = {n for n, holders in by_node.items() if satisfies(nodes[n], template)}
    missing = [
        node.id
        for node in nodes.values()
        if _eligible(node) and node.id not in covered and satisfies(node, template)
    ]
    result.create.extend((None, node_id) for node_id in sorted(missing))
    return []


def _place(
    service: dict[str, Any],
    slots: list[int | None],
    nodes: Mapping[str, NodeInfo],
    every: list[dict[str, Any]],
    result: Plan,
) -> None:
    if not slots:
        return
    template = service["Spec"]["TaskTemplate"]
    wanted = Reservation.of(template)
    staying = [t for t in every if is_live(t) and t["ID"] not in result.shutdown]
    used = reserved_by_node(staying)
    own = Counter(t["NodeID"] for t in staying if t["ServiceID"] == service["ID"])
    load = Counter(t["NodeID"] for t in staying)
    candidates = [n for n in nodes.values() if _eligible(n) and satisfies(n, template)]
    for slot in slots:
        fitting = [n for n in candidates if room_for(n, used.get(n.id, Reservation()), wanted)]
        if not fitting:
            result.unplaced += 1
            if slot is not None:
                result.pending.append(slot)
            result.reason = (
                "no node satisfies the constraints"
                if not candidates
                else "no node has the resources the service reserves"
            )
            continue
        best = min(fitting, key=lambda n: (own[n.id], load[n.id], n.id))
        result.create.append((slot, best.id))
        own[best.id] += 1
        load[best.id] += 1
        used[best.id] = used.get(best.id, Reservation()) + wanted
