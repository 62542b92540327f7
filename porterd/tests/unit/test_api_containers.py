"""The container routes through falcon.testing over a real ContainerService (sqlite, image
store in tmp_path): records, names, errors and statuses; nothing here starts a container."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import falcon
import falcon.testing
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from image_support import add_image, new_store
from porterd.api.app import create_app
from porterd.containers.service import ContainerService
from porterd.events import EventBus
from porterd.state import Database

BUSYBOX = "docker.io/library/busybox:latest"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ContainerService]:
    store = new_store(tmp_path)
    add_image(store, [BUSYBOX], config={"Cmd": ["sh"], "Env": ["PATH=/bin"]})
    service = ContainerService(
        database=Database(tmp_path / "state.db"),
        events=EventBus(),
        images=store,
        runtimes={"porter-runtime": "/bin/false"},
        exec_root=tmp_path / "exec",
        data_root=tmp_path / "data",
    )
    yield service
    service.close()


@pytest.fixture
def client(service: ContainerService) -> falcon.testing.TestClient:
    app = create_app(SimpleNamespace(containers=service), routers=["containers", "exec"])
    return falcon.testing.TestClient(app)


def create(client: falcon.testing.TestClient, body: dict, name: str = "") -> falcon.testing.Result:
    query = f"?name={name}" if name else ""
    return client.simulate_post(f"/v1.43/containers/create{query}", json=body)


def test_create_answers_201_with_a_64_hex_id(client) -> None:
    result = create(client, {"Image": "busybox", "Cmd": ["true"]})
    assert result.status_code == 201
    assert len(result.json["Id"]) == 64 and int(result.json["Id"], 16) >= 0


def test_inspect_shows_the_merged_config_and_the_created_state(client) -> None:
    made = create(client, {"Image": "busybox", "Env": ["A=1"]}, "web").json["Id"]
    document = client.simulate_get("/containers/web/json").json
    assert document["Id"] == made and document["Name"] == "/web"
    assert document["Config"]["Cmd"] == ["sh"]
    assert document["Config"]["Env"] == ["PATH=/bin", "A=1"]
    assert document["State"]["Status"] == "created" and document["State"]["Running"] is False


def test_a_container_is_found_by_id_prefix(client) -> None:
    made = create(client, {"Image": "busybox"}).json["Id"]
    assert client.simulate_get(f"/containers/{made[:8]}/json").json["Id"] == made


def test_list_shows_stopped_containers_only_with_all(client) -> None:
    create(client, {"Image": "busybox"}, "listed")
    assert client.simulate_get("/containers/json").json == []
    listed = client.simulate_get("/containers/json", params={"all": "1"}).json
    assert [c["Names"] for c in listed] == [["/listed"]]
    assert listed[0]["State"] == "created" and listed[0]["Status"] == "Created"


def test_list_filters_by_name_and_label(client) -> None:
    create(client, {"Image": "busybox", "Labels": {"team": "a"}}, "one")
    create(client, {"Image": "busybox"}, "two")
    by_label = client.simulate_get(
        "/containers/json", params={"all": "1", "filters": '{"label": ["team=a"]}'}
    ).json
    assert [c["Names"][0] for c in by_label] == ["/one"]
    by_name = client.simulate_get(
        "/containers/json", params={"all": "1", "filters": '{"name": ["two"]}'}
    ).json
    assert [c["Names"][0] for c in by_name] == ["/two"]


def test_a_name_in_use_is_409(client) -> None:
    create(client, {"Image": "busybox"}, "taken")
    result = create(client, {"Image": "busybox"}, "taken")
    assert result.status_code == 409 and "already in use" in result.json["message"]


def test_a_malformed_name_is_400(client) -> None:
    assert create(client, {"Image": "busybox"}, "-bad").status_code == 400


def test_an_unknown_image_is_404(client) -> None:
    assert create(client, {"Image": "nothing-here"}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"Image": "busybox", "HostConfig": "x"},
        {"Image": "busybox", "Env": "A=1"},
        {"Image": "busybox", "Env": [1]},
        {"Image": "busybox", "Labels": ["a"]},
        {"Image": "busybox", "HostConfig": {"Binds": [{"a": 1}]}},
        {"Image": "busybox", "HostConfig": {"Memory": "lots"}},
        {"Image": "busybox", "HostConfig": {"RestartPolicy": {"Name": "sometimes"}}},
        {"Image": 5},
        {},
    ],
)
def test_malformed_bodies_are_400_never_500(client, body: dict) -> None:
    result = create(client, body)
    assert result.status_code == 400, result.json
    assert result.json["message"]


def test_unknown_containers_are_404_on_every_route(client) -> None:
    for method, path in [
        ("GET", "/containers/nope/json"),
        ("POST", "/containers/nope/start"),
        ("POST", "/containers/nope/stop"),
        ("POST", "/containers/nope/kill"),
        ("DELETE", "/containers/nope"),
        ("GET", "/containers/nope/logs?stdout=1"),
        ("POST", "/containers/nope/exec"),
        ("GET", "/exec/nope/json"),
    ]:
        result = client.simulate_request(method, path, json={"Cmd": ["true"]})
        assert result.status_code == 404, (method, path)


def test_stopping_or_killing_a_created_container_is_refused(client) -> None:
    create(client, {"Image": "busybox"}, "idle")
    assert client.simulate_post("/containers/idle/stop").status_code == 304
    assert client.simulate_post("/containers/idle/kill").status_code == 409
    assert client.simulate_post("/containers/idle/pause").status_code == 409


def test_an_invalid_signal_is_400(client) -> None:
    create(client, {"Image": "busybox"}, "sig")
    assert (
        client.simulate_post("/containers/sig/kill", params={"signal": "NOPE"}).status_code == 400
    )


def test_exec_in_a_container_that_is_not_running_is_409(client) -> None:
    create(client, {"Image": "busybox"}, "down")
    result = client.simulate_post("/containers/down/exec", json={"Cmd": ["true"]})
    assert result.status_code == 409


def test_rename_then_remove(client) -> None:
    create(client, {"Image": "busybox"}, "old")
    assert client.simulate_post("/containers/old/rename", params={"name": "new"}).status_code == 204
    assert client.simulate_get("/containers/new/json").json["Name"] == "/new"
    assert client.simulate_delete("/containers/new").status_code == 204
    assert client.simulate_get("/containers/new/json").status_code == 404


def test_wait_on_a_created_container_answers_at_once(client) -> None:
    create(client, {"Image": "busybox"}, "waited")
    result = client.simulate_post("/containers/waited/wait")
    assert result.json == {"StatusCode": 0, "Error": None}


def test_logs_need_a_stream(client) -> None:
    create(client, {"Image": "busybox"}, "quiet")
    assert client.simulate_get("/containers/quiet/logs").status_code == 400


def test_a_failed_start_is_an_error_and_leaves_the_container_created(
    client, service: ContainerService
) -> None:
    create(client, {"Image": "busybox", "HostConfig": {"NetworkMode": "none"}}, "broken")
    result = client.simulate_post("/containers/broken/start")  # the runtime is /bin/false
    assert result.status_code >= 400 and result.json["message"]
    assert client.simulate_get("/containers/broken/json").json["State"]["Status"] == "created"
    assert not os.path.ismount(service.paths(service.get("broken")).rootfs)


def test_records_survive_a_new_service_on_the_same_database(
    client, service: ContainerService, tmp_path: Path
) -> None:
    made = create(client, {"Image": "busybox"}, "kept").json["Id"]
    again = ContainerService(
        database=Database(tmp_path / "state.db"),
        events=EventBus(),
        images=service.images,
        runtimes={"porter-runtime": "/bin/false"},
        exec_root=tmp_path / "exec",
        data_root=tmp_path / "data",
    )
    try:
        assert again.get("kept").id == made
    finally:
        again.close()


def test_prune_removes_stopped_containers(client) -> None:
    made = create(client, {"Image": "busybox"}).json["Id"]
    result = client.simulate_post("/containers/prune").json
    assert result["ContainersDeleted"] == [made]


def test_size_reports_the_bytes_of_the_upper_layer(client, service: ContainerService) -> None:
    create(client, {"Image": "busybox"}, "sized")
    upper = service.paths(service.get("sized")).upper
    upper.mkdir(parents=True)
    (upper / "written").write_bytes(b"x" * 1000)
    assert (
        client.simulate_get("/containers/sized/json", params={"size": "1"}).json["SizeRw"] == 1000
    )
    listed = client.simulate_get("/containers/json", params={"all": "1", "size": "1"}).json
    assert listed[0]["SizeRw"] == 1000


def test_list_filters_before_and_since_another_container(client) -> None:
    for name in ("first", "second", "third"):
        create(client, {"Image": "busybox"}, name)

    def names(filters: str) -> list[str]:
        listed = client.simulate_get("/containers/json", params={"all": "1", "filters": filters})
        return sorted(c["Names"][0] for c in listed.json)

    assert names('{"before": ["second"]}') == ["/first"]
    assert names('{"since": ["second"]}') == ["/third"]
    assert (
        client.simulate_get(
            "/containers/json", params={"filters": '{"before": ["nobody"]}'}
        ).status_code
        == 404
    )
