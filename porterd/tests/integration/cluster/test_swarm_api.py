"""The swarm routes (`/nodes`, `/services`, `/tasks`, `/swarm`) over a cluster node on a real
etcd, through porterd's falcon app (its error handler included)."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from falcon import testing
from porterd.api.app import create_app
from porterd.cluster.node import ClusterNode

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def client(node: ClusterNode) -> testing.TestClient:
    return testing.TestClient(create_app(SimpleNamespace(cluster=node), routers=["swarm"]))


def spec(name: str = "web", replicas: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "TaskTemplate": {"ContainerSpec": {"Image": "busybox"}},
        "Mode": {"Replicated": {"Replicas": replicas}},
        **extra,
    }


def create(client: testing.TestClient, body: Any) -> testing.Result:
    return client.simulate_post("/v1.43/services/create", body=json.dumps(body))


def test_node_ls_lists_this_node_ready_and_leading(client: testing.TestClient) -> None:
    nodes = client.simulate_get("/nodes").json
    assert [n["Description"]["Hostname"] for n in nodes] == ["alpha"]
    assert nodes[0]["Status"]["State"] == "ready"
    assert nodes[0]["ManagerStatus"]["Leader"] is True


def test_a_node_update_needs_the_version(client: testing.TestClient, node: ClusterNode) -> None:
    answer = client.simulate_post(f"/nodes/{node.node_id}/update", json={"Availability": "drain"})
    assert answer.status_code == 400
    assert "version" in answer.json["message"]


def test_a_node_update_with_its_version_drains_it(
    client: testing.TestClient, node: ClusterNode
) -> None:
    version = client.simulate_get(f"/nodes/{node.node_id}").json["Version"]["Index"]
    answer = client.simulate_post(
        f"/nodes/{node.node_id}/update",
        params={"version": str(version)},
        json={"Availability": "drain", "Role": "manager", "Labels": {"zone": "a"}},
    )
    assert answer.status_code == 200
    assert client.simulate_get("/nodes/alpha").json["Spec"]["Availability"] == "drain"


def test_a_created_service_is_listed_with_its_status(client: testing.TestClient) -> None:
    answer = create(client, spec(replicas=3))
    assert answer.status_code == 201
    listed = client.simulate_get("/services", params={"status": "1"}).json
    assert [s["ID"] for s in listed] == [answer.json["ID"]]
    assert listed[0]["ServiceStatus"] == {"RunningTasks": 0, "DesiredTasks": 3, "CompletedTasks": 0}


def test_services_are_filtered_by_name(client: testing.TestClient) -> None:
    create(client, spec("web"))
    create(client, spec("db"))
    filters = json.dumps({"name": {"db": True}})
    names = [
        s["Spec"]["Name"]
        for s in client.simulate_get("/services", params={"filters": filters}).json
    ]
    assert names == ["db"]


def test_services_are_filtered_by_label_key_or_key_and_value(client: testing.TestClient) -> None:
    create(client, spec("web", Labels={"tier": "front"}))
    create(client, spec("db", Labels={"tier": "back"}))
    create(client, spec("cache"))
    for wanted, names in (("tier", {"web", "db"}), ("tier=back", {"db"}), ("zone", set())):
        filters = json.dumps({"label": {wanted: True}})
        listed = client.simulate_get("/services", params={"filters": filters}).json
        assert {s["Spec"]["Name"] for s in listed} == names


def test_a_negative_replica_count_is_a_400_and_nothing_is_created(
    client: testing.TestClient,
) -> None:
    answer = create(client, spec(replicas=-1))
    assert answer.status_code == 400
    assert answer.json["message"] == "invalid replica count -1: it cannot be negative"
    assert client.simulate_get("/services").json == []


def test_a_malformed_body_is_a_400(client: testing.TestClient) -> None:
    answer = client.simulate_post("/services/create", body="{not json")
    assert answer.status_code == 400


def test_a_port_published_by_another_service_is_a_400_naming_it(client: testing.TestClient) -> None:
    ports = {"Ports": [{"TargetPort": 80, "PublishedPort": 8080}]}
    assert create(client, spec("a", EndpointSpec=ports)).status_code == 201
    answer = create(client, spec("b", EndpointSpec=ports))
    assert answer.status_code == 400
    assert answer.json["message"] == "port 8080/tcp is already published by service 'a'"


def test_an_impossible_constraint_is_a_400(client: testing.TestClient) -> None:
    template = {
        "ContainerSpec": {"Image": "busybox"},
        "Placement": {"Constraints": ["node.labels.gpu==yes"]},
    }
    answer = create(client, spec(TaskTemplate=template))
    assert answer.status_code == 400
    assert "no node satisfies the constraints node.labels.gpu==yes" in answer.json["message"]


def test_scale_is_an_update_at_the_read_version(client: testing.TestClient) -> None:
    service_id = create(client, spec(replicas=1)).json["ID"]
    service = client.simulate_get(f"/services/{service_id}").json
    answer = client.simulate_post(
        f"/services/{service_id}/update",
        params={"version": str(service["Version"]["Index"])},
        json=spec(replicas=4),
    )
    assert answer.status_code == 200
    stale = client.simulate_post(
        f"/services/{service_id}/update",
        params={"version": str(service["Version"]["Index"])},
        json=spec(replicas=5),
    )
    assert stale.status_code == 409
    now = client.simulate_get("/services/web").json
    assert now["Spec"]["Mode"]["Replicated"]["Replicas"] == 4


def update_at_the_current_version(
    client: testing.TestClient, params: dict[str, str], body: dict[str, Any] | None = None
) -> testing.Result:
    """An update at the version just read, read again when the cluster moved it on meanwhile
    (the reconciler records an update's progress in the service, as swarm does), as the
    docker CLI's retry does."""
    for _ in range(5):
        version = client.simulate_get("/services/web").json["Version"]["Index"]
        answer = client.simulate_post(
            "/services/web/update", params={"version": str(version), **params}, json=body
        )
        if answer.status_code != 409:
            return answer
    return answer


def test_rollback_previous_brings_the_previous_spec_back(client: testing.TestClient) -> None:
    create(client, spec(replicas=1))
    assert update_at_the_current_version(client, {}, spec(replicas=3)).status_code == 200
    answer = update_at_the_current_version(client, {"rollback": "previous"})
    assert answer.status_code == 200
    assert client.simulate_get("/services/web").json["Spec"]["Mode"]["Replicated"]["Replicas"] == 1


def test_a_removed_service_is_404_afterwards(client: testing.TestClient) -> None:
    create(client, spec())
    assert client.simulate_delete("/services/web").status_code == 200
    answer = client.simulate_get("/services/web")
    assert (answer.status_code, answer.json["message"]) == (404, "service web not found")


def test_tasks_are_filtered_by_service_name(client: testing.TestClient, node: ClusterNode) -> None:
    create(client, spec(replicas=2))
    node.reconciler.reconcile_once()
    filters = json.dumps({"service": {"web": True}, "desired-state": {"running": True}})
    tasks = client.simulate_get("/tasks", params={"filters": filters}).json
    assert sorted(t["Slot"] for t in tasks) == [1, 2]
    assert client.simulate_get(f"/tasks/{tasks[0]['ID']}").json["ID"] == tasks[0]["ID"]


def test_swarm_init_is_refused_with_how_porterd_joins(client: testing.TestClient) -> None:
    answer = client.simulate_post("/swarm/init", json={})
    assert answer.status_code == 400
    assert "--cluster-store" in answer.json["message"]


def test_without_a_cluster_the_routes_answer_409_saying_how_to_join() -> None:
    client = testing.TestClient(create_app(SimpleNamespace(), routers=["swarm"]))
    answer = client.simulate_get("/services")
    assert answer.status_code == 409
    assert "--cluster-store" in answer.json["message"]


def task_ids(client: testing.TestClient, **filters: str) -> list[str]:
    query = json.dumps({key.replace("_", "-"): {value: True} for key, value in filters.items()})
    answer = client.simulate_get("/tasks", params={"filters": query})
    assert answer.status_code == 200, answer.text
    return sorted(t["ID"] for t in answer.json)


def up_to_date(client: testing.TestClient) -> list[dict[str, Any]]:
    # the docker CLI's own key, whose underscore task_ids would turn into a dash
    query = json.dumps({"service": {"web": True}, "_up-to-date": {"true": True}})
    return client.simulate_get("/tasks", params={"filters": query}).json


def test_up_to_date_tasks_are_those_of_the_service_spec_as_it_is_now(
    client: testing.TestClient, node: ClusterNode
) -> None:
    create(client, spec(replicas=2))
    node.reconciler.reconcile_once()
    first = task_ids(client, service="web")
    assert sorted(t["ID"] for t in up_to_date(client)) == first and len(first) == 2
    changed = spec(replicas=2)
    changed["TaskTemplate"]["ContainerSpec"]["Env"] = ["COLOUR=blue"]
    assert update_at_the_current_version(client, {}, changed).status_code == 200
    # the node's reconciler may have made tasks of the new spec already: only those count
    current = up_to_date(client)
    assert not {t["ID"] for t in current} & set(first)
    assert all(t["Spec"]["ContainerSpec"].get("Env") == ["COLOUR=blue"] for t in current)


def test_a_scale_leaves_the_tasks_up_to_date(client: testing.TestClient, node: ClusterNode) -> None:
    create(client, spec(replicas=2))
    node.reconciler.reconcile_once()
    assert update_at_the_current_version(client, {}, spec(replicas=3)).status_code == 200
    node.reconciler.reconcile_once()
    assert len(up_to_date(client)) == 3


def test_every_task_runs_the_container_runtime(
    client: testing.TestClient, node: ClusterNode
) -> None:
    create(client, spec(replicas=2))
    node.reconciler.reconcile_once()
    assert len(task_ids(client, runtime="container")) == 2
    assert task_ids(client, runtime="plugin") == []


def test_a_desired_state_no_task_can_have_is_a_400(client: testing.TestClient) -> None:
    filters = json.dumps({"desired-state": {"sleeping": True}})
    answer = client.simulate_get("/tasks", params={"filters": filters})
    assert answer.status_code == 400
    assert answer.json["message"] == "invalid desired-state filter: 'sleeping'"


def test_removing_a_ready_node_without_force_is_a_409_and_keeps_it(
    client: testing.TestClient, other_node: Callable[..., str]
) -> None:
    node_id = other_node("beta", ready=True)
    answer = client.simulate_delete(f"/nodes/{node_id}")
    assert answer.status_code == 409
    assert answer.json["message"] == (
        f"node {node_id} is ready: stop its porterd first, or remove it with --force"
    )
    assert client.simulate_get("/nodes/beta").status_code == 200


def test_a_ready_node_is_removed_with_force(
    client: testing.TestClient, other_node: Callable[..., str]
) -> None:
    node_id = other_node("beta", ready=True)
    assert client.simulate_delete(f"/nodes/{node_id}", params={"force": "1"}).status_code == 200
    assert [n["Description"]["Hostname"] for n in client.simulate_get("/nodes").json] == ["alpha"]


def test_a_down_node_is_removed_by_its_hostname_without_force(
    client: testing.TestClient, other_node: Callable[..., str]
) -> None:
    node_id = other_node("beta", ready=False)
    assert client.simulate_delete("/nodes/beta").status_code == 200
    answer = client.simulate_get(f"/nodes/{node_id}")
    assert (answer.status_code, answer.json["message"]) == (404, f"node {node_id} not found")


def test_removing_an_unknown_node_is_a_404(client: testing.TestClient) -> None:
    answer = client.simulate_delete("/nodes/nosuchnode", params={"force": "1"})
    assert (answer.status_code, answer.json["message"]) == (404, "node nosuchnode not found")
