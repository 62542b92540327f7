"""The Engine API's network routes over a real NetworkService in a namespace of the test's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from falcon import testing
from porterd.api import app as app_module
from porterd.api import networks as networks_api
from porterd.errors import NotFound

from porterd.tests.network_support import Host, links_in, network_host, unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@dataclass
class FakeContainer:
    """What the network service reads of a porterd.containers record."""

    id: str
    name: str
    config: dict[str, Any] = field(default_factory=dict)
    host_config: dict[str, Any] = field(default_factory=dict)


class FakeContainers:
    def __init__(self) -> None:
        self.known: dict[str, FakeContainer] = {}

    def get(self, ref: str) -> FakeContainer:
        for container in self.known.values():
            if ref in (container.id, container.name.lstrip("/")):
                return container
        raise NotFound(f"No such container: {ref}")


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    with network_host(tmp_path) as made:
        made.service.containers = FakeContainers()
        yield made


@pytest.fixture
def client(host: Host) -> testing.TestClient:
    app = app_module.create_app(None, routers=[])
    networks_api.add_routes(app, host.service)
    return testing.TestClient(app)


def create(client: testing.TestClient, **document: Any) -> testing.Result:
    return client.simulate_post("/v1.43/networks/create", json=document)


def test_create_answers_201_with_the_id(client: testing.TestClient) -> None:
    result = create(client, Name="web", Labels={"tier": "front"})
    assert result.status_code == 201
    inspected = client.simulate_get(f"/networks/{result.json['Id']}").json
    assert (inspected["Name"], inspected["Driver"], inspected["Labels"]) == (
        "web",
        "bridge",
        {"tier": "front"},
    )


def test_list_holds_the_default_bridge_host_and_none(client: testing.TestClient) -> None:
    names = {n["Name"]: n["Driver"] for n in client.simulate_get("/networks").json}
    assert names == {"bridge": "bridge", "host": "host", "none": "null"}


def test_list_filters_by_name_and_type(client: testing.TestClient) -> None:
    create(client, Name="alpha")
    custom = client.simulate_get("/networks", params={"filters": '{"type": ["custom"]}'}).json
    assert [n["Name"] for n in custom] == ["alpha"]
    named = client.simulate_get("/networks", params={"filters": '{"name": {"bri": true}}'}).json
    assert [n["Name"] for n in named] == ["bridge"]


def test_a_subnet_gateway_and_range_are_kept(client: testing.TestClient) -> None:
    config = {"Subnet": "10.88.0.0/16", "Gateway": "10.88.0.254", "IPRange": "10.88.5.0/24"}
    result = create(client, Name="ranged", IPAM={"Config": [config]})
    assert client.simulate_get("/networks/ranged").json["IPAM"]["Config"] == [config]
    assert result.status_code == 201


def test_a_duplicate_name_is_409(client: testing.TestClient) -> None:
    create(client, Name="twice")
    result = create(client, Name="twice")
    assert result.status_code == 409
    assert result.json == {"message": "network with name twice already exists"}


def test_an_overlapping_subnet_is_409(client: testing.TestClient) -> None:
    create(client, Name="one", IPAM={"Config": [{"Subnet": "10.20.0.0/16"}]})
    assert (
        create(client, Name="two", IPAM={"Config": [{"Subnet": "10.20.3.0/24"}]}).status_code == 409
    )


def test_a_gateway_outside_the_subnet_is_400(client: testing.TestClient) -> None:
    config = {"Subnet": "10.21.0.0/24", "Gateway": "10.22.0.1"}
    assert create(client, Name="bad", IPAM={"Config": [config]}).status_code == 400


def test_an_unknown_driver_is_404(client: testing.TestClient) -> None:
    assert create(client, Name="mv", Driver="macvlan").status_code == 404


def test_an_overlay_network_outside_a_cluster_is_a_400_naming_the_missing_flag(
    client: testing.TestClient,
) -> None:
    result = create(client, Name="ov", Driver="overlay")
    assert result.status_code == 400
    assert result.json["message"] == (
        "overlay networks need a cluster: this porterd was started without --cluster-store"
    )
    assert "ov" not in [n["Name"] for n in client.simulate_get("/networks").json]


def test_a_container_cannot_join_an_overlay_outside_a_cluster(
    client: testing.TestClient, host: Host
) -> None:
    assert create(client, Name="ov", Driver="overlay").status_code == 400
    with pytest.raises(NotFound, match="network ov not found"):
        host.start("c1", "ov")


def test_a_body_without_a_name_is_400(client: testing.TestClient) -> None:
    assert create(client, Name="").status_code == 400


def test_an_unknown_network_is_404(client: testing.TestClient) -> None:
    result = client.simulate_get("/networks/nothing")
    assert (result.status_code, result.json) == (404, {"message": "network nothing not found"})


def test_a_network_is_inspected_by_name_id_or_id_prefix(client: testing.TestClient) -> None:
    network_id = create(client, Name="found").json["Id"]
    for ref in ("found", network_id, network_id[:12]):
        result = client.simulate_get(f"/networks/{ref}")
        assert (result.status_code, result.json["Id"]) == (200, network_id)


def test_the_pseudo_networks_are_inspected_by_name_or_id(client: testing.TestClient) -> None:
    listed = {n["Name"]: n for n in client.simulate_get("/networks").json}
    for name, driver in (("host", "host"), ("none", "null")):
        for ref in (name, listed[name]["Id"]):
            document = client.simulate_get(f"/networks/{ref}").json
            assert (document["Name"], document["Driver"]) == (name, driver)
            assert document == listed[name]


def test_remove_answers_204_and_the_bridge_goes(client: testing.TestClient, host: Host) -> None:
    network_id = create(client, Name="short").json["Id"]
    bridge = host.service.get(network_id).bridge
    assert client.simulate_delete(f"/networks/{network_id}").status_code == 204
    assert bridge not in links_in(host.netns)


def test_the_predefined_networks_are_not_removed(client: testing.TestClient) -> None:
    for name in ("bridge", "host", "none"):
        assert client.simulate_delete(f"/networks/{name}").status_code == 403


def test_prune_removes_unused_networks_only(client: testing.TestClient, host: Host) -> None:
    create(client, Name="unused")
    create(client, Name="used")
    container = host.start("user", "used")
    host.service.containers.known[container.id] = FakeContainer(container.id, "/user")
    result = client.simulate_post("/networks/prune")
    assert result.json == {"NetworksDeleted": ["unused"]}


def test_prune_removes_only_the_networks_with_the_labels_asked_for(
    client: testing.TestClient,
) -> None:
    create(client, Name="front", Labels={"tier": "front"})
    create(client, Name="back", Labels={"tier": "back"})
    create(client, Name="bare")
    filters = '{"label": {"tier=front": true}}'
    result = client.simulate_post("/networks/prune", params={"filters": filters})
    assert result.json == {"NetworksDeleted": ["front"]}
    filters = '{"label": {"tier": true}}'
    result = client.simulate_post("/networks/prune", params={"filters": filters})
    assert result.json == {"NetworksDeleted": ["back"]}


def test_networks_are_listed_by_label_key_or_key_and_value(client: testing.TestClient) -> None:
    create(client, Name="front", Labels={"tier": "front"})
    create(client, Name="back", Labels={"tier": "back"})
    for wanted, names in (("tier", {"front", "back"}), ("tier=back", {"back"}), ("zone", set())):
        filters = json.dumps({"label": {wanted: True}})
        listed = client.simulate_get("/networks", params={"filters": filters}).json
        assert {n["Name"] for n in listed} == names


def test_connect_and_disconnect_a_running_container(client: testing.TestClient, host: Host) -> None:
    create(client, Name="joined")
    container = host.start("runner")
    host.service.containers.known[container.id] = FakeContainer(container.id, "/runner")
    body = {"Container": "runner", "EndpointConfig": {"Aliases": ["api"]}}
    assert client.simulate_post("/networks/joined/connect", json=body).status_code == 200
    members = client.simulate_get("/networks/joined").json["Containers"]
    assert list(members) == [container.id]
    assert members[container.id]["Name"] == "runner"
    result = client.simulate_post("/networks/joined/disconnect", json={"Container": "runner"})
    assert result.status_code == 200
    assert client.simulate_get("/networks/joined").json["Containers"] == {}


def test_removing_a_network_in_use_is_403(client: testing.TestClient, host: Host) -> None:
    create(client, Name="held")
    host.start("holder", "held")
    assert client.simulate_delete("/networks/held").status_code == 403


def test_connecting_an_unknown_container_is_404(client: testing.TestClient) -> None:
    create(client, Name="lonely")
    result = client.simulate_post("/networks/lonely/connect", json={"Container": "ghost"})
    assert result.status_code == 404
