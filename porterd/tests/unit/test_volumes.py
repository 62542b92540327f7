"""Volumes: the local driver's service and the `/volumes` routes, as dockerd answers them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from falcon import testing
from porterd.api import app as app_module
from porterd.events import EventBus
from porterd.state import Database
from porterd.volumes import ANONYMOUS_LABEL, VolumeService


class Daemon:
    """Just the services the volume routes are wired from."""

    def __init__(self, root: Path) -> None:
        self.events = EventBus()
        self.database = Database(root / "state.db")
        self.volumes = VolumeService(
            database=self.database, events=self.events, root=root / "volumes"
        )
        self.in_use: dict[str, list[str]] = {}
        self.volumes.set_users(lambda name: self.in_use.get(name, []))


@pytest.fixture
def daemon(tmp_path: Path) -> Daemon:
    return Daemon(tmp_path)


@pytest.fixture
def client(daemon: Daemon) -> testing.TestClient:
    return testing.TestClient(app_module.create_app(daemon, routers=["volumes"]))


def _create(client: testing.TestClient, **document) -> testing.Result:
    return client.simulate_post("/v1.43/volumes/create", json=document)


def test_create_answers_201_with_the_volume(client: testing.TestClient, tmp_path: Path) -> None:
    response = _create(client, Name="data", Labels={"tier": "db"})
    assert response.status_code == 201
    volume = response.json
    assert volume["Name"] == "data" and volume["Driver"] == "local"
    assert volume["Labels"] == {"tier": "db"} and volume["Scope"] == "local"
    assert volume["Mountpoint"] == str(tmp_path / "volumes" / "data" / "_data")
    assert Path(volume["Mountpoint"]).is_dir()


def test_create_without_a_name_makes_a_random_one(client: testing.TestClient) -> None:
    assert len(_create(client).json["Name"]) == 64


def test_creating_an_existing_volume_returns_it(client: testing.TestClient) -> None:
    first = _create(client, Name="data", Labels={"a": "1"}).json
    assert _create(client, Name="data").json == first


@pytest.mark.parametrize(
    ("name", "message"),
    [("x", "volume name is too short"), ("a/b", "includes invalid characters")],
)
def test_create_refuses_a_bad_name(client: testing.TestClient, name: str, message: str) -> None:
    response = _create(client, Name=name)
    assert response.status_code == 400 and message in response.json["message"]


def test_create_refuses_an_unknown_driver(client: testing.TestClient) -> None:
    response = _create(client, Name="data", Driver="flocker")
    assert response.status_code == 404
    assert 'plugin "flocker" not found' in response.json["message"]


def test_create_refuses_an_unknown_driver_option(client: testing.TestClient) -> None:
    response = _create(client, Name="data", DriverOpts={"size": "1G"})
    assert response.status_code == 400 and "invalid option key" in response.json["message"]


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'{"Labels": ["a"]}', b'{"Name": 3}', b'{"DriverOpts": {"o": 1}}']
)
def test_create_refuses_a_malformed_body(client: testing.TestClient, body: bytes) -> None:
    response = client.simulate_post("/volumes/create", body=body)
    assert response.status_code == 400 and response.json["message"].startswith("invalid JSON")


def test_inspect_of_a_missing_volume_is_404(client: testing.TestClient) -> None:
    response = client.simulate_get("/volumes/nothing")
    assert response.status_code == 404
    assert response.json == {"message": "get nothing: no such volume"}


def test_list_has_every_volume_and_no_warnings(client: testing.TestClient) -> None:
    _create(client, Name="one")
    _create(client, Name="two")
    listing = client.simulate_get("/volumes").json
    assert [volume["Name"] for volume in listing["Volumes"]] == ["one", "two"]
    assert listing["Warnings"] == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"name": ["tw"]}, ["two"]),
        ({"label": ["tier"]}, ["one"]),
        ({"label": ["tier=web"]}, []),
        ({"dangling": ["true"]}, ["two"]),
        ({"dangling": {"false": True}}, ["one"]),
        ({"driver": ["local"]}, ["one", "two"]),
    ],
)
def test_list_filters(client: testing.TestClient, daemon: Daemon, filters, expected) -> None:
    _create(client, Name="one", Labels={"tier": "db"})
    _create(client, Name="two")
    daemon.in_use["one"] = ["c1"]
    listing = client.simulate_get("/volumes", params={"filters": json.dumps(filters)}).json
    assert [volume["Name"] for volume in listing["Volumes"]] == expected


def test_list_refuses_an_unknown_filter(client: testing.TestClient) -> None:
    response = client.simulate_get("/volumes", params={"filters": '{"colour": ["red"]}'})
    assert response.status_code == 400


def test_remove_deletes_the_volume_and_its_folder(client: testing.TestClient) -> None:
    mountpoint = Path(_create(client, Name="data").json["Mountpoint"])
    assert client.simulate_delete("/volumes/data").status_code == 204
    assert client.simulate_get("/volumes/data").status_code == 404
    assert not mountpoint.parent.exists()


def test_remove_of_a_volume_in_use_is_a_conflict(
    client: testing.TestClient, daemon: Daemon
) -> None:
    _create(client, Name="data")
    daemon.in_use["data"] = ["c0ffee"]
    response = client.simulate_delete("/volumes/data", params={"force": "1"})
    assert response.status_code == 409
    assert response.json == {"message": "remove data: volume is in use - [c0ffee]"}


def test_remove_of_a_missing_volume_is_404_unless_forced(client: testing.TestClient) -> None:
    assert client.simulate_delete("/volumes/nothing").status_code == 404
    assert client.simulate_delete("/volumes/nothing", params={"force": "true"}).status_code == 204


def test_prune_removes_only_unused_anonymous_volumes(
    client: testing.TestClient, daemon: Daemon
) -> None:
    _create(client, Name="named")
    unused = daemon.volumes.create_anonymous()
    used = daemon.volumes.create_anonymous()
    daemon.in_use[used] = ["c1"]
    (daemon.volumes.mountpoint_for(unused, create=False) / "file").write_bytes(b"x" * 8192)
    report = client.simulate_post("/volumes/prune").json
    assert report["VolumesDeleted"] == [unused]
    assert report["SpaceReclaimed"] >= 8192
    remaining = {volume.name for volume in daemon.volumes.list()}
    assert remaining == {"named", used}


def test_prune_with_all_removes_unused_named_volumes_too(
    client: testing.TestClient, daemon: Daemon
) -> None:
    _create(client, Name="named")
    _create(client, Name="kept", Labels={"keep": "yes"})
    filters = json.dumps({"all": ["true"], "label!": ["keep"]})
    report = client.simulate_post("/volumes/prune", params={"filters": filters}).json
    assert report["VolumesDeleted"] == ["named"]


def test_an_anonymous_volume_carries_dockers_label(daemon: Daemon) -> None:
    name = daemon.volumes.create_anonymous()
    assert daemon.volumes.get(name).labels == {ANONYMOUS_LABEL: ""}


def test_mountpoint_for_creates_a_missing_volume_when_asked(daemon: Daemon) -> None:
    path = daemon.volumes.mountpoint_for("fresh", create=True)
    assert path.is_dir() and daemon.volumes.get("fresh").name == "fresh"


def test_mountpoint_for_a_missing_volume_without_create_is_not_found(daemon: Daemon) -> None:
    from porterd.errors import NotFound

    with pytest.raises(NotFound):
        daemon.volumes.mountpoint_for("missing", create=False)


def test_volume_events_are_published(daemon: Daemon) -> None:
    daemon.volumes.create("data")
    daemon.volumes.remove("data")
    history, _ = daemon.events.subscribe()
    assert [(e.type, e.action, e.actor_id) for e in history] == [
        ("volume", "create", "data"),
        ("volume", "destroy", "data"),
    ]


def test_volumes_survive_a_restart_of_the_service(daemon: Daemon, tmp_path: Path) -> None:
    daemon.volumes.create("data", labels={"a": "b"})
    again = Daemon(tmp_path)
    assert again.volumes.get("data").labels == {"a": "b"}


MOUNT_PROBE = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from porterd.events import EventBus
    from porterd.state import Database
    from porterd.volumes import VolumeService
    root = Path(sys.argv[1])
    service = VolumeService(database=Database(root / "db"), events=EventBus(), root=root / "v")
    service.create("scratch", options={"type": "tmpfs", "device": "tmpfs", "o": "size=1m"})
    path = service.mountpoint_for("scratch", create=False)
    print(os.path.ismount(path))
    service.remove("scratch")
    print(path.exists())
    """
)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root")
def test_a_volume_with_driver_options_is_mounted_on_use_and_unmounted_on_remove(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            sys.executable,
            "-c",
            MOUNT_PROBE,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]
