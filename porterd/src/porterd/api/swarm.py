"""Swarm routes: `/swarm`, `/nodes`, `/services`, `/tasks`, as far as the docker CLI's
`docker service create | ls | ps | inspect | scale | update | rollback | rm` and
`docker node ls | inspect | update | rm` need them, over porterd.cluster.

A porterd started without `--cluster-store` answers them 409 with dockerd's kind of message
(dockerd answers 503; a daemon working as configured is not a server error here, and the API
fuzz test holds every answer below 500); `docker swarm init|join|leave` are refused with how
porterd joins instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import falcon

from porterd.api import body, query
from porterd.api.containers import logs_query
from porterd.api.images import registry_credentials
from porterd.cluster import spec as specs
from porterd.cluster.logs import task_log_stream
from porterd.cluster.scheduler import NodeInfo, is_current, is_live, unsatisfiable
from porterd.errors import Conflict, InvalidParameter, NotFound
from porterd.labels import has_label

if TYPE_CHECKING:  # the node (its agent, reconciler, etcd client) only with --cluster-store
    from porterd.cluster.node import ClusterNode

NOT_IN_CLUSTER = (
    "This node is not part of a cluster: start porterd with "
    "--cluster-store URLS --advertise-addr ADDR to join one"
)
INTERNAL_STATUS = ("BatchStarted", "NextBatchAt")


def _matches(filters: dict[str, list[str]], checks: dict[str, Callable[[str], bool]]) -> bool:
    return all(any(checks[key](value) for value in values) for key, values in filters.items())


def _version(req: falcon.Request, kind: str) -> int:
    version = query.integer(req, "version", minimum=0)
    if version is None:
        raise InvalidParameter(f"a {kind} update needs the version it was read at (?version=)")
    return version


class _Resource:
    def __init__(self, cluster: ClusterNode | None) -> None:
        self._cluster = cluster

    @property
    def cluster(self) -> ClusterNode:
        if self._cluster is None:
            raise Conflict(NOT_IN_CLUSTER)
        return self._cluster


# -- swarm -------------------------------------------------------------------------------------


class Swarm(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cluster = self.cluster
        resp.media = {
            "ID": "porter-" + cluster.store.prefix.strip("/").replace("/", "-"),
            "Version": {"Index": 0},
            "Spec": {"Name": "default", "Labels": {}},
            "JoinTokens": {"Worker": "", "Manager": ""},
            "SubnetSize": 24,
            "DataPathPort": 4789,
        }


class SwarmMembership(_Resource):
    """`docker swarm init | join | leave`: porterd joins through its flags instead."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise InvalidParameter(
            "porterd joins a cluster with --cluster-store URLS --advertise-addr ADDR, "
            "not with docker swarm init, join or leave"
        )


class SwarmInit(SwarmMembership):
    pass


class SwarmJoin(SwarmMembership):
    pass


class SwarmLeave(SwarmMembership):
    pass


# -- nodes -------------------------------------------------------------------------------------

NODE_FILTERS = ("id", "name", "role", "membership", "label", "node.label")


class NodeList(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        filters = query.filters(req, NODE_FILTERS)
        found = []
        for node in self.cluster.store.nodes():
            checks = {
                "id": lambda v, n=node: n["ID"].startswith(v),
                "name": lambda v, n=node: n["Description"]["Hostname"] == v,
                "role": lambda v, n=node: n["Spec"].get("Role") == v,
                "membership": lambda v: v == "accepted",
                "label": lambda v, n=node: has_label(n["Spec"].get("Labels") or {}, v),
                "node.label": lambda v, n=node: has_label(n["Spec"].get("Labels") or {}, v),
            }
            if _matches(filters, checks):
                found.append(node)
        resp.media = found


class NodeItem(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        resp.media = self.cluster.store.node(id)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.cluster.store.remove_node(id, force=query.flag(req, "force"))
        resp.media = {}


class NodeUpdate(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        version = _version(req, "node")
        self.cluster.store.update_node(id, version, body.json_object(req, required=True))
        resp.media = {}


# -- services ----------------------------------------------------------------------------------

SERVICE_FILTERS = ("id", "name", "label", "mode")


def service_view(service: dict[str, Any]) -> dict[str, Any]:
    """A stored service as the Engine API shows it (with `Endpoint`, without internal state)."""
    view = dict(service)
    endpoint_spec = service["Spec"].get("EndpointSpec", {})
    view["Endpoint"] = {"Spec": endpoint_spec, "Ports": endpoint_spec.get("Ports", [])}
    if "UpdateStatus" in service:
        status = service["UpdateStatus"]
        view["UpdateStatus"] = {k: v for k, v in status.items() if k not in INTERNAL_STATUS}
    return view


def service_status(
    service: dict[str, Any], tasks: list[dict[str, Any]], nodes: list[NodeInfo]
) -> dict[str, int]:
    own = [t for t in tasks if t["ServiceID"] == service["ID"]]
    replicas = specs.replicas(service["Spec"])
    if replicas is None:
        replicas = sum(1 for n in nodes if n.ready and n.availability == "active")
    return {
        "RunningTasks": sum(1 for t in own if is_live(t) and t["Status"]["State"] == "running"),
        "DesiredTasks": replicas,
        "CompletedTasks": sum(1 for t in own if t["Status"]["State"] == "complete"),
    }


class ServiceList(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        store = self.cluster.store
        filters = query.filters(req, SERVICE_FILTERS)
        found = []
        for service in store.services():
            spec = service["Spec"]
            checks = {
                "id": lambda v, s=service: s["ID"].startswith(v),
                "name": lambda v, s=spec: s["Name"].startswith(v),
                "label": lambda v, s=spec: has_label(s.get("Labels") or {}, v),
                "mode": lambda v, s=spec: v.lower() in {m.lower() for m in s["Mode"]},
            }
            if _matches(filters, checks):
                found.append(service_view(service))
        if query.flag(req, "status") and found:
            tasks = store.tasks()
            nodes = [NodeInfo.from_node(n) for n in store.nodes()]
            for view in found:
                view["ServiceStatus"] = service_status(view, tasks, nodes)
        resp.media = found


class _ServiceChange(_Resource):
    def check(
        self, req: falcon.Request, spec: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        """What a create, or an update from `current`, must pass before the store is touched:
        placement on some node, the image where it changes (not on a scale), and the published
        ports it adds."""
        store = self.cluster.store
        why = unsatisfiable(spec["TaskTemplate"], [NodeInfo.from_node(n) for n in store.nodes()])
        if why is not None:
            raise InvalidParameter(f"service {spec['Name']!r} cannot be placed: {why}")
        image = spec["TaskTemplate"]["ContainerSpec"]["Image"]
        if current is None or image != current["TaskTemplate"]["ContainerSpec"]["Image"]:
            self.cluster.check_image(image, registry_credentials(req))
        from porterd.cluster.mesh import refuse_taken_ports  # here: the node has loaded it

        refuse_taken_ports(store, spec, current=current)


class ServiceCreate(_ServiceChange):
    openapi = {"post": {"responses": {"201": {"description": "created"}}}}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        spec = specs.normalized(body.json_object(req, required=True))
        self.check(req, spec, None)
        service = self.cluster.store.create_service(spec)
        resp.status = falcon.HTTP_201
        resp.media = {"ID": service["ID"], "Warnings": None}


class ServiceItem(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        resp.media = service_view(self.cluster.store.service(id))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.cluster.store.remove_service(id)
        resp.media = {}


class ServiceUpdate(_ServiceChange):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        version = _version(req, "service")
        rollback = req.get_param("rollback") or ""
        if rollback not in ("", "previous"):
            raise InvalidParameter(f"invalid rollback {rollback!r}: the only value is 'previous'")
        document = body.json_object(req, required=not rollback)
        store = self.cluster.store
        if rollback:
            store.update_service(id, version, None, rollback=True)
        else:
            spec = specs.normalized(document)
            self.check(req, spec, store.service(id)["Spec"])
            store.update_service(id, version, spec)
        resp.media = {"Warnings": None}


# -- tasks -------------------------------------------------------------------------------------

# `_up-to-date` is what the docker CLI's progress (create, update, scale, rollback without
# -d) asks for: the tasks of the service's spec as it is now. `runtime` is the tasks' kind,
# and every task here runs a container.
TASK_FILTERS = ("id", "name", "service", "node", "label", "desired-state", "_up-to-date", "runtime")
# swarm's task states, which a desired-state filter may name
TASK_STATES = (
    "new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting",
    "running", "complete", "shutdown", "failed", "rejected", "remove", "orphaned",
)  # fmt: skip


def task_name(task: dict[str, Any]) -> str:
    return f"{task.get('ServiceName', '')}.{task.get('Slot') or task['NodeID']}"


def task_filters(req: falcon.Request) -> dict[str, list[str]]:
    """`?filters=` of a task list, with dockerd's refusal of a state no task can be in."""
    filters = query.filters(req, TASK_FILTERS)
    for state in filters.get("desired-state", []):
        if state.lower() not in TASK_STATES:
            raise InvalidParameter(f"invalid desired-state filter: '{state}'")
    return filters


class TaskList(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        store = self.cluster.store
        filters = task_filters(req)
        services = (
            {s["ID"]: s for s in store.services()}
            if "service" in filters or "_up-to-date" in filters
            else {}
        )
        nodes = store.nodes() if "node" in filters else []
        node_names = {n["ID"]: n["Description"]["Hostname"] for n in nodes}
        found = []
        for task in store.tasks():
            service = services.get(task["ServiceID"], {})
            checks = {
                "id": lambda v, t=task: t["ID"].startswith(v),
                "name": lambda v, t=task: task_name(t).startswith(v),
                "service": lambda v, t=task, s=service: (
                    t["ServiceID"].startswith(v) or s.get("Spec", {}).get("Name") == v
                ),
                "node": lambda v, t=task: t["NodeID"] == v or node_names.get(t["NodeID"]) == v,
                "label": lambda v, t=task: has_label(
                    t["Spec"].get("ContainerSpec", {}).get("Labels") or {}, v
                ),
                "desired-state": lambda v, t=task: t["DesiredState"] == v.lower(),
                # dockerd reads the filter's presence, whatever its value
                "_up-to-date": lambda v, t=task, s=service: bool(s) and is_current(t, s),
                "runtime": lambda v: v == "container",
            }
            if _matches(filters, checks):
                found.append(task)
        resp.media = found


def find_task(tasks: list[dict[str, Any]], id: str) -> dict[str, Any]:
    """The task `id` names (its id, or a prefix of six characters or more)."""
    for task in tasks:
        if task["ID"] == id or (len(id) >= 6 and task["ID"].startswith(id)):
            return task
    raise NotFound(f"task {id} not found")


class TaskItem(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        resp.media = find_task(self.cluster.store.tasks(), id)


class _Logs(_Resource):
    """`docker service logs`: the task containers' logs from every node, with docker's task
    details."""

    def stream(self, req: falcon.Request, resp: falcon.Response, tasks: list[dict]) -> None:
        logs, peers = self.cluster.task_logs, self.cluster.peer_logs
        if logs is None or peers is None:
            raise Conflict("this node runs no tasks, so it holds no task logs")
        log_query = logs_query(req)
        tasks = sorted(tasks, key=lambda t: (t.get("Slot") or 0, t.get("CreatedAt") or ""))
        resp.content_type = "application/vnd.docker.multiplexed-stream"
        resp.stream = task_log_stream(
            logs,
            self.cluster.node_id,
            peers,
            tasks,
            log_query,
            query.flag(req, "follow"),
            query.flag(req, "timestamps"),
            req.env.get("porterd.disconnected", lambda: False),
        )


class ServiceLogs(_Logs):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        store = self.cluster.store
        service = store.service(id)
        self.stream(req, resp, [t for t in store.tasks() if t["ServiceID"] == service["ID"]])


class TaskLogs(_Logs):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.stream(req, resp, [find_task(self.cluster.store.tasks(), id)])


def add_routes(app: falcon.App, cluster: ClusterNode | None) -> None:
    app.add_route("/swarm", Swarm(cluster))
    app.add_route("/swarm/init", SwarmInit(cluster))
    app.add_route("/swarm/join", SwarmJoin(cluster))
    app.add_route("/swarm/leave", SwarmLeave(cluster))
    app.add_route("/nodes", NodeList(cluster))
    app.add_route("/nodes/{id}", NodeItem(cluster))
    app.add_route("/nodes/{id}/update", NodeUpdate(cluster))
    app.add_route("/services", ServiceList(cluster))
    app.add_route("/services/create", ServiceCreate(cluster))
    app.add_route("/services/{id}", ServiceItem(cluster))
    app.add_route("/services/{id}/update", ServiceUpdate(cluster))
    app.add_route("/tasks", TaskList(cluster))
    app.add_route("/tasks/{id}", TaskItem(cluster))
    app.add_route("/services/{id}/logs", ServiceLogs(cluster))
    app.add_route("/tasks/{id}/logs", TaskLogs(cluster))
