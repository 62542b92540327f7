"""The cluster's state in etcd, in the Engine API's JSON shapes.

    PREFIX/nodes/ID              a node: Spec (Role, Availability, Labels), Description, Addr
    PREFIX/alive/ID              on the node's lease: present while its porterd renews it
    PREFIX/services/ID           a service: Spec (docker's ServiceSpec), PreviousSpec, UpdateStatus
    PREFIX/names/NAME            the id of the service of that name
    PREFIX/ports/PROTO/PORT      the id of the service publishing that port
    PREFIX/tasks/SERVICE/TASK    a task: its slot, node, desired state and actual status
    PREFIX/leader                the reconciling node's id, on that node's lease

A service's `Version.Index` is its key's etcd revision: an update names the version it read
and fails with `Conflict` if another change came first. Creating, updating and removing a
service (with its name, its ports and its tasks) are each one transaction, so a refused
change leaves nothing behind.
"""

from __future__ import annotations

import json
import secrets
import string
from datetime import UTC, datetime
from typing import Any

from porterd.cluster import spec as specs
from porterd.cluster.etcd import (
    Compare,
    Delete,
    EtcdClient,
    Get,
    KeyValue,
    Operation,
    Put,
    key_at,
    key_missing,
)
from porterd.cluster.overlay_store import OverlayStore
from porterd.cluster.scheduler import runs_spec
from porterd.errors import Conflict, InvalidParameter, NotFound

ID_ALPHABET = string.ascii_lowercase + string.digits
DEFAULT_PREFIX = "/porter/"
REGISTER_ATTEMPTS = 5  # reads of a node's record that others change meanwhile


def new_id() -> str:
    """A 25-character id as swarm's (lower-case letters and digits)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(25))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _with_version(kv: KeyValue) -> dict[str, Any]:
    document = kv.json()
    document["Version"] = {"Index": kv.mod_revision}
    return document


class ClusterStore:
    def __init__(self, etcd: EtcdClient, prefix: str = DEFAULT_PREFIX) -> None:
        self.etcd = etcd
        self.prefix = prefix.rstrip("/") + "/"

    def key(self, *parts: str) -> str:
        return self.prefix + "/".join(parts)

    # -- nodes -------------------------------------------------------------------------------

    def register_node(
        self, node_id: str, *, hostname: str, addr: str, resources: dict[str, int], lease: int
    ) -> dict[str, Any]:
        """Record this node (keeping the Spec an operator set before) and mark it alive on
        `lease`; the node as stored. The record is written only as it was read: a `node
        update` made in between (a drain while the porterd starts) is read again and kept."""
        key = self.key("nodes", node_id)
        for _ in range(REGISTER_ATTEMPTS):
            existing = self.etcd.get(key)
            node = (
                existing.json()
                if existing
                else {
                    "ID": node_id,
                    "CreatedAt": now(),
                    "Spec": {"Role": "manager", "Availability": "active", "Labels": {}},
                }
            )
            node["Description"] = {
                "Hostname": hostname,
                "Platform": {"Architecture": "x86_64", "OS": "linux"},
                "Resources": resources,
                "Engine": {"EngineVersion": "porter"},
            }
            node["Addr"] = addr
            node["UpdatedAt"] = now()
            unchanged = key_at(key, existing.mod_revision) if existing else key_missing(key)
            puts = [Put(key, _dump(node)), Put(self.key("alive", node_id), addr, lease)]
            if self.etcd.txn([unchanged], puts).succeeded:
                return node
        raise Conflict(f"node {node_id} kept changing while it registered; try again")

    def mark_alive(self, node_id: str, addr: str, lease: int) -> None:
        self.etcd.put(self.key("alive", node_id), addr, lease=lease)

    def nodes(self) -> list[dict[str, Any]]:
        """Every node with its Status (ready while its lease lives, down after) and, for the
        leader, ManagerStatus.Leader."""
        alive = {kv.key.rsplit("/", 1)[1] for kv in self.etcd.prefix(self.key("alive", ""))}
        leader = self.leader()
        found = []
        for kv in self.etcd.prefix(self.key("nodes", "")):
            node = _with_version(kv)
            ready = node["ID"] in alive
            node["Status"] = {"State": "ready" if ready else "down", "Addr": node.get("Addr", "")}
            node["ManagerStatus"] = {
                "Leader": node["ID"] == leader,
                "Reachability": "reachable" if ready else "unreachable",
                "Addr": node.get("Addr", ""),
            }
            found.append(node)
        return found

    def node(self, ref: str) -> dict[str, Any]:
        """The node with id, id prefix or hostname `ref`."""
        nodes = self.nodes()
        for match in (
            lambda n: n["ID"] == ref,
            lambda n: n["Description"]["Hostname"] == ref,
            lambda n: n["ID"].startswith(ref),
        ):
            hits = [node for node in nodes if match(node)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise InvalidParameter(f"node {ref!r} is ambiguous ({len(hits)} matches)")
        raise NotFound(f"node {ref} not found")

    def update_node(self, ref: str, version: int, node_spec: dict[str, Any]) -> None:
        """Replace a node's Spec (Availability, Labels, Role) if it is still at `version`."""
        node = self.node(ref)
        availability = node_spec.get("Availability", "active")
        if availability not in ("active", "pause", "drain"):
            raise InvalidParameter(f"invalid availability {availability!r}: active, pause or drain")
        role = node_spec.get("Role", "manager")
        if role not in ("manager", "worker"):
            raise InvalidParameter(f"invalid role {role!r}: manager or worker")
        labels = node_spec.get("Labels") or {}
        if not isinstance(labels, dict):
            raise InvalidParameter("invalid node spec: Labels must be an object")
        stored = {k: v for k, v in node.items() if k not in ("Version", "Status", "ManagerStatus")}
        stored["Spec"] = {**node_spec, "Availability": availability, "Role": role, "Labels": labels}
        stored["UpdatedAt"] = now()
        key = self.key("nodes", node["ID"])
        if not self.etcd.txn([key_at(key, version)], [Put(key, _dump(stored))]).succeeded:
            raise Conflict(f"node {ref} changed since version {version}: read it again")

    def remove_node(self, ref: str, force: bool = False) -> None:
        """Delete a node's record and liveness; a ready node only by `force`. Without it the
        delete holds only while the node is still down: one read down, whose porterd joined
        again before the delete, is ready and stays."""
        node = self.node(ref)
        ready = Conflict(f"node {ref} is ready: stop its porterd first, or remove it with --force")
        if node["Status"]["State"] == "ready" and not force:
            raise ready
        alive = self.key("alive", node["ID"])
        compare = [] if force else [key_missing(alive)]
        deletes = [Delete(self.key("nodes", node["ID"])), Delete(alive)]
        if not self.etcd.txn(compare, deletes).succeeded:
            raise ready

    # -- leader ------------------------------------------------------------------------------

    def campaign(self, node_id: str, lease: int) -> bool:
        """Become the leader if there is none; whether `node_id` leads afterwards."""
        key = self.key("leader")
        result = self.etcd.txn([key_missing(key)], [Put(key, node_id, lease)], [Get(key)])
        return result.succeeded or (
            bool(result.ranges[0]) and result.ranges[0][0].value.decode() == node_id
        )

    def leader(self) -> str | None:
        found = self.etcd.get(self.key("leader"))
        return found.value.decode() if found else None

    # -- services ----------------------------------------------------------------------------

    def _port_key(self, port: tuple[str, int]) -> str:
        return self.key("ports", port[0], str(port[1]))

    def create_service(self, spec: Any) -> dict[str, Any]:
        """Store a new service (validated) with its name and ports, all or nothing."""
        spec = specs.normalized(spec)
        OverlayStore(self.etcd, self.prefix).check_attachments(spec)
        service_id = new_id()
        stamp = now()
        service = {"ID": service_id, "CreatedAt": stamp, "UpdatedAt": stamp, "Spec": spec}
        ports = specs.published_ports(spec)
        name_key = self.key("names", spec["Name"])
        compare = [key_missing(name_key), *(key_missing(self._port_key(p)) for p in ports)]
        success: list[Operation] = [
            Put(self.key("services", service_id), _dump(service)),
            Put(name_key, service_id),
            *(Put(self._port_key(p), service_id) for p in ports),
        ]
        result = self.etcd.txn(
            compare, success, [Get(name_key), *(Get(self._port_key(p)) for p in ports)]
        )
        if not result.succeeded:
            self._refuse(spec["Name"], result.ranges[0], ports, result.ranges[1:], service_id)
        service["Version"] = {"Index": result.revision}
        return service

    def _refuse(
        self,
        name: str,
        name_holders: list[KeyValue],
        ports: list[tuple[str, int]],
        port_holders: list[list[KeyValue]],
        own_id: str,
    ) -> None:
        """Raise the error that says why a service's transaction did not succeed."""
        if name_holders and name_holders[0].value.decode() != own_id:
            raise Conflict(f"service name {name!r} is already in use")
        for port, holders in zip(ports, port_holders, strict=True):
            if holders and holders[0].value.decode() != own_id:
                owner = self._service_name(holders[0].value.decode())
                raise InvalidParameter(
                    f"port {port[1]}/{port[0]} is already published by service {owner!r}"
                )
        raise Conflict(f"service {name!r} changed since it was read: read it again and retry")

    def _service_name(self, service_id: str) -> str:
        found = self.etcd.get(self.key("services", service_id))
        return found.json()["Spec"]["Name"] if found else service_id

    def services(self) -> list[dict[str, Any]]:
        return [_with_version(kv) for kv in self.etcd.prefix(self.key("services", ""))]

    def service(self, ref: str) -> dict[str, Any]:
        """The service with id, name or unambiguous id prefix `ref`."""
        found = self.etcd.get(self.key("services", ref))
        if found is None:
            by_name = self.etcd.get(self.key("names", ref))
            if by_name is not None:
                found = self.etcd.get(self.key("services", by_name.value.decode()))
        if found is not None:
            return _with_version(found)
        hits = [s for s in self.services() if s["ID"].startswith(ref)] if ref else []
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise InvalidParameter(f"service {ref!r} is ambiguous ({len(hits)} matches)")
        raise NotFound(f"service {ref} not found")

    def update_service(
        self,
        ref: str,
        version: int,
        spec: Any,
        *,
        rollback: bool = False,
        status: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Replace a service's Spec if it is still at `version`, keeping the one it replaces
        as PreviousSpec (`rollback` brings PreviousSpec back instead of `spec`). `status` is
        the UpdateStatus to write in the same transaction instead of the one a change starts:
        the reconciler's rollback says which failure caused it, and a second write could
        fail and leave it reading as a manual one."""
        service = self.service(ref)
        if rollback:
            if not service.get("PreviousSpec"):
                raise Conflict(f"service {ref} has no previous spec to roll back to")
            spec = service["PreviousSpec"]
        spec = specs.normalized(spec)
        if spec["Name"] != service["Spec"]["Name"]:
            raise InvalidParameter("renaming a service is not supported")
        OverlayStore(self.etcd, self.prefix).check_attachments(spec)
        if spec == service["Spec"] and not rollback:
            return service
        updated = {k: v for k, v in service.items() if k != "Version"}
        updated["PreviousSpec"], updated["Spec"] = service["Spec"], spec
        updated["UpdatedAt"] = now()
        if status is not None:
            updated["UpdateStatus"] = status
        elif rollback or _replaces_tasks(service, spec):
            updated["UpdateStatus"] = {
                "State": "rollback_started" if rollback else "updating",
                "StartedAt": now(),
                "Message": "manually requested rollback" if rollback else "update in progress",
            }
        else:
            # A change no task is replaced for (a scale, an update policy) is no update, and
            # the last one's status goes, as swarm resets it: the docker CLI reads a completed
            # update as the end of its wait for the service to converge.
            updated.pop("UpdateStatus", None)
        return self._replace_service(service, version, updated)

    def _replace_service(
        self, service: dict[str, Any], version: int, updated: dict[str, Any]
    ) -> dict[str, Any]:
        old_ports = set(specs.published_ports(service["Spec"]))
        new_ports = specs.published_ports(updated["Spec"])
        added = [p for p in new_ports if p not in old_ports]
        key = self.key("services", service["ID"])
        result = self.etcd.txn(
            [key_at(key, version), *(key_missing(self._port_key(p)) for p in added)],
            [
                Put(key, _dump(updated)),
                *(Put(self._port_key(p), service["ID"]) for p in added),
                *(Delete(self._port_key(p)) for p in old_ports - set(new_ports)),
            ],
            [Get(self._port_key(p)) for p in added],
        )
        if not result.succeeded:
            self._refuse(service["Spec"]["Name"], [], added, result.ranges, service["ID"])
        updated["Version"] = {"Index": result.revision}
        return updated

    def set_service_status(self, service: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """Store `fields` (UpdateStatus, Autoscale...) beside the spec, or a changed Spec by the
        reconciler (an autoscaling decision); `Conflict` if the service changed meanwhile."""
        updated = {k: v for k, v in service.items() if k != "Version"}
        updated.update(fields)
        return self._replace_service(service, service["Version"]["Index"], updated)

    def remove_service(self, ref: str) -> None:
        """Remove a service with its name, its ports and its tasks in one transaction."""
        service = self.service(ref)
        self.etcd.txn(
            [],
            [
                Delete(self.key("services", service["ID"])),
                Delete(self.key("names", service["Spec"]["Name"])),
                *(Delete(self._port_key(p)) for p in specs.published_ports(service["Spec"])),
                Delete(self.key("tasks", service["ID"], ""), prefix=True),
            ],
        )

    # -- tasks -------------------------------------------------------------------------------

    def tasks(self, service_id: str | None = None) -> list[dict[str, Any]]:
        prefix = self.key("tasks", service_id, "") if service_id else self.key("tasks", "")
        return [_with_version(kv) for kv in self.etcd.prefix(prefix)]

    def tasks_at(self) -> tuple[list[dict[str, Any]], int]:
        """Every task, and the revision they were read at (write_tasks' `read_at`)."""
        kvs, revision = self.etcd.range_at(self.key("tasks", ""), prefix=True)
        return [_with_version(kv) for kv in kvs], revision

    def write_tasks(
        self,
        tasks: list[dict[str, Any]],
        removed: list[dict[str, Any]] = (),  # type: ignore[assignment]
        *,
        read_at: int = 0,
    ) -> bool:
        """Store new or changed tasks and remove others, each only if unchanged since read
        (a task without a Version is new); whether it all happened. With `read_at`, new tasks
        are stored only if no other task of their service was created after that revision:
        two reconcilers that read the same tasks cannot both fill the same empty slot."""
        compare: list[Compare] = []
        success: list[Operation] = []
        created_in: set[str] = set()
        for task in tasks:
            key = self.key("tasks", task["ServiceID"], task["ID"])
            version = task.get("Version", {}).get("Index", 0)
            compare.append(key_at(key, version) if version else key_missing(key))
            if not version and read_at:
                created_in.add(task["ServiceID"])
            stored = {k: v for k, v in task.items() if k != "Version"}
            stored["UpdatedAt"] = now()
            success.append(Put(key, _dump(stored)))
        for task in removed:
            key = self.key("tasks", task["ServiceID"], task["ID"])
            compare.append(key_at(key, task["Version"]["Index"]))
            success.append(Delete(key))
        for service_id in sorted(created_in):
            prefix = self.key("tasks", service_id, "")
            compare.append(Compare(prefix, "CREATE", "LESS", read_at + 1, prefix=True))
        return self.etcd.txn(compare, success).succeeded


def _replaces_tasks(service: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Whether changing `service` to `spec` makes its tasks outdated (see runs_spec), or
    finds an update under way or paused, which goes on (as any update resumes a paused one
    in swarm)."""
    state = (service.get("UpdateStatus") or {}).get("State")
    old = service["Spec"]
    return state in ("updating", "rollback_started", "paused", "rollback_paused") or not runs_spec(
        old["TaskTemplate"], old.get("EndpointSpec", {}), spec
    )


def new_task(service: dict[str, Any], slot: int | None, node_id: str) -> dict[str, Any]:
    """A task of `service` for `slot` (or the node, for a global service) on `node_id`."""
    stamp = now()
    return {
        "ID": new_id(),
        "ServiceID": service["ID"],
        "Slot": slot,
        "NodeID": node_id,
        "Spec": service["Spec"]["TaskTemplate"],
        "ServiceName": service["Spec"]["Name"],
        "Endpoint": {"Spec": service["Spec"].get("EndpointSpec", {})},
        "DesiredState": "running",
        "Status": {"State": "assigned", "Timestamp": stamp, "Message": "scheduled"},
        "CreatedAt": stamp,
        "UpdatedAt": stamp,
    }
