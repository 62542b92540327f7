"""`service create` (and an update to another image) resolves its image before the
transaction: in the answering node's image store, else in its registry (remote inspect); an
image neither has is one clear 400 and nothing is written to etcd."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from falcon import testing
from porter_image.copy import copy_image
from porter_image.layer.testing import archive, file
from porter_image.layout import Layout
from porter_image.snapshots.testing import layered_image
from porterd.api.app import create_app
from porterd.cluster.node import ClusterNode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "porter-image" / "tests"))
from image_support import add_image, new_store
from registry_support import host_of, running_registry

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`127.0.0.1:PORT` of a registry holding `demo/app:v1`."""
    with running_registry(tmp_path_factory.mktemp("registry")) as process:
        host = host_of(process.url)
        layout = Layout.create(tmp_path_factory.mktemp("source") / "layout")
        layered_image(layout, "v1", [archive(file("hello", b"hi\n"))], {"Cmd": ["sh"]})
        copy_image(f"oci:{layout.path}:v1", f"docker://{host}/demo/app:v1")
        yield host


@pytest.fixture
def client(node: ClusterNode, tmp_path: Path) -> testing.TestClient:
    node.images = new_store(tmp_path / "images")
    add_image(node.images, ["docker.io/library/local:1"])
    return testing.TestClient(create_app(SimpleNamespace(cluster=node), routers=["swarm"]))


def create(client: testing.TestClient, image: str) -> testing.Result:
    body: dict[str, Any] = {
        "Name": "web",
        "TaskTemplate": {"ContainerSpec": {"Image": image}},
        "Mode": {"Replicated": {"Replicas": 1}},
    }
    return client.simulate_post("/v1.43/services/create", body=json.dumps(body))


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_image_in_the_nodes_store_is_accepted(client: testing.TestClient) -> None:
    assert create(client, "local:1").status_code == 201


def test_an_image_only_in_its_registry_is_accepted(
    client: testing.TestClient, registry: str
) -> None:
    assert create(client, f"{registry}/demo/app:v1").status_code == 201


def test_an_image_neither_has_is_a_400_and_nothing_is_created(
    client: testing.TestClient, registry: str
) -> None:
    answer = create(client, f"{registry}/demo/nosuch:v1")
    assert answer.status_code == 400
    message = answer.json["message"]
    assert message.startswith(f"image {registry}/demo/nosuch:v1 is not on this node")
    assert "\n" not in message
    assert client.simulate_get("/services").json == []


def test_an_image_whose_registry_cannot_be_reached_is_a_400_and_nothing_is_created(
    client: testing.TestClient,
) -> None:
    answer = create(client, f"127.0.0.1:{unused_port()}/demo/app:v1")
    assert answer.status_code == 400
    assert "is not on this node" in answer.json["message"]
    assert client.simulate_get("/services").json == []


def test_an_update_to_an_unknown_image_is_a_400_and_the_service_keeps_its_image(
    client: testing.TestClient, registry: str
) -> None:
    service_id = create(client, "local:1").json["ID"]
    service = client.simulate_get(f"/services/{service_id}").json
    spec = service["Spec"]
    spec["TaskTemplate"]["ContainerSpec"]["Image"] = f"{registry}/demo/nosuch:v1"
    answer = client.simulate_post(
        f"/v1.43/services/{service_id}/update",
        params={"version": str(service["Version"]["Index"])},
        body=json.dumps(spec),
    )
    assert answer.status_code == 400
    image = client.simulate_get(f"/services/{service_id}").json["Spec"]["TaskTemplate"]
    assert image["ContainerSpec"]["Image"] == "local:1"
