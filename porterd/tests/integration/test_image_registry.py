"""Pull and push through the image store and its routes, against a porter-registry on loopback."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import falcon
import falcon.testing
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# porter-image's registry_support starts porter-registry processes for tests
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "porter-image" / "tests"))

from image_support import new_store
from porter_image.copy import copy_image
from porter_image.layer.testing import archive, directory, file
from porter_image.layout import Layout
from porter_image.reference import parse_docker_reference
from porter_image.snapshots import mount_overlay, unmount
from porter_image.snapshots.testing import layered_image
from porterd.api import images as image_routes
from porterd.api.app import handle_daemon_error
from porterd.errors import DaemonError, NotFound
from porterd.images import ImageStore, RegistrySettings
from registry_support import host_of, running_registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`127.0.0.1:PORT` of a registry holding `demo/app:v1`, a two-layer image."""
    with running_registry(tmp_path_factory.mktemp("registry")) as process:
        host = host_of(process.url)
        layout = Layout.create(tmp_path_factory.mktemp("source") / "layout")
        layers = [
            archive(directory("etc"), file("etc/motd", b"base\n"), file("etc/gone", b"x")),
            archive(directory("etc"), file("etc/.wh.gone"), file("etc/motd", b"top\n")),
        ]
        layered_image(layout, "v1", layers, {"Cmd": ["sh"]})
        copy_image(f"oci:{layout.path}:v1", f"docker://{host}/demo/app:v1")
        yield host


def pull(store: ImageStore, name: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    store.pull(parse_docker_reference(name), messages.append)
    return messages


def test_a_pull_names_the_image_by_its_reference_and_its_digest(
    tmp_path: Path, registry: str
) -> None:
    store = new_store(tmp_path)
    pull(store, f"{registry}/demo/app:v1")
    stored = store.get(f"{registry}/demo/app:v1")
    digests = [n for n in stored.names if "@" in n]
    assert len(digests) == 1 and digests[0].startswith(f"{registry}/demo/app@sha256:")
    assert store.get(digests[0]) == stored


def test_a_pull_unpacks_the_snapshots_a_container_mounts(tmp_path: Path, registry: str) -> None:
    store = new_store(tmp_path)
    pull(store, f"{registry}/demo/app:v1")
    image = store.container_image(f"{registry}/demo/app:v1", holder="c1")
    assert (image.lowerdirs[0] / "etc" / "motd").read_bytes() == b"top\n"
    assert (image.lowerdirs[1] / "etc" / "motd").read_bytes() == b"base\n"


def test_pull_progress_speaks_dockers_messages(tmp_path: Path, registry: str) -> None:
    messages = pull(new_store(tmp_path), f"{registry}/demo/app:v1")
    assert messages[0] == {"status": "Pulling from demo/app", "id": "v1"}
    statuses = [m["status"] for m in messages]
    assert "Pulling fs layer" in statuses and "Download complete" in statuses
    assert statuses[-2].startswith("Digest: sha256:")
    assert statuses[-1] == f"Status: Downloaded newer image for {registry}/demo/app:v1"


def test_pulling_again_says_the_image_is_up_to_date(tmp_path: Path, registry: str) -> None:
    store = new_store(tmp_path)
    pull(store, f"{registry}/demo/app:v1")
    again = pull(store, f"{registry}/demo/app:v1")
    assert again[-1]["status"] == f"Status: Image is up to date for {registry}/demo/app:v1"
    assert len(store.images()) == 1


def test_pulling_a_missing_tag_is_not_found_and_stores_nothing(
    tmp_path: Path, registry: str
) -> None:
    store = new_store(tmp_path)
    with pytest.raises(NotFound, match="demo/app"):
        pull(store, f"{registry}/demo/app:missing")
    assert store.images() == []
    assert Layout.open(store.layout_path).entries() == []


def test_a_pushed_image_pulls_into_another_store_with_the_same_id(
    tmp_path: Path, registry: str
) -> None:
    first = new_store(tmp_path / "one")
    pull(first, f"{registry}/demo/app:v1")
    first.tag(f"{registry}/demo/app:v1", f"{registry}/pushed/app", "v2")
    messages: list[dict[str, Any]] = []
    first.push([parse_docker_reference(f"{registry}/pushed/app:v2")], messages.append)
    assert messages[0] == {"status": f"The push refers to repository [{registry}/pushed/app]"}
    assert messages[-1]["aux"]["Tag"] == "v2"
    second = new_store(tmp_path / "two")
    pull(second, f"{registry}/pushed/app:v2")
    assert second.get(f"{registry}/pushed/app:v2").id == first.get(f"{registry}/demo/app:v1").id


def _client(store: ImageStore) -> falcon.testing.TestClient:
    app = falcon.App()
    app.add_error_handler(DaemonError, handle_daemon_error)
    image_routes.add_routes(app, store)
    return falcon.testing.TestClient(app)


def test_the_create_route_streams_the_pull_as_json_lines(tmp_path: Path, registry: str) -> None:
    client = _client(new_store(tmp_path))
    result = client.simulate_post(
        "/images/create", params={"fromImage": f"{registry}/demo/app", "tag": "v1"}
    )
    assert result.status_code == 200
    lines = [json.loads(line) for line in result.text.splitlines() if line]
    assert lines[0]["status"] == "Pulling from demo/app"
    assert lines[-1]["status"].startswith("Status: Downloaded newer image")


def test_the_create_route_answers_404_for_a_missing_image(tmp_path: Path, registry: str) -> None:
    client = _client(new_store(tmp_path))
    result = client.simulate_post("/images/create", params={"fromImage": f"{registry}/nothing"})
    assert result.status_code == 404


def test_the_push_route_pushes_every_tag_of_the_repository(tmp_path: Path, registry: str) -> None:
    store = new_store(tmp_path)
    pull(store, f"{registry}/demo/app:v1")
    store.tag(f"{registry}/demo/app:v1", f"{registry}/all/app", "a")
    store.tag(f"{registry}/demo/app:v1", f"{registry}/all/app", "b")
    result = _client(store).simulate_post(f"/images/{registry}/all/app/push")
    assert result.status_code == 200
    lines = [json.loads(line) for line in result.text.splitlines() if line]
    assert [m["aux"]["Tag"] for m in lines if "aux" in m] == ["a", "b"]


def test_a_hub_image_is_pulled_from_a_registry_mirror_first(tmp_path: Path, registry: str) -> None:
    store = ImageStore(
        data_root=tmp_path / "data",
        registry=RegistrySettings(registry_mirrors=(f"http://{registry}",)),
    )
    pull(store, "demo/app:v1")  # Docker Hub's name; the mirror on loopback holds it
    stored = store.get("demo/app:v1")
    assert "docker.io/demo/app:v1" in stored.names


@pytest.mark.skipif(os.geteuid() != 0, reason="overlay mounts need root")
def test_a_pulled_image_mounts_as_an_overlay_with_its_whiteouts(
    tmp_path: Path, registry: str
) -> None:
    store = new_store(tmp_path)
    pull(store, f"{registry}/demo/app:v1")
    image = store.container_image(f"{registry}/demo/app:v1", holder="c1")
    target = tmp_path / "rootfs"
    target.mkdir()
    mount_overlay(image.lowerdirs, tmp_path / "upper", tmp_path / "work", target)
    try:
        assert (target / "etc" / "motd").read_bytes() == b"top\n"
        assert not (target / "etc" / "gone").exists()
    finally:
        unmount(target)
    store.release("c1")


def test_concurrent_pulls_of_one_image_store_it_once(tmp_path: Path, registry: str) -> None:
    store = new_store(tmp_path)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            pull(store, f"{registry}/demo/app:v1")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(store.images()) == 1 and len(store.snapshots.chain_ids()) == 2
    assert [e.tag for e in Layout.open(store.layout_path).entries()].count(None) == 0


def test_an_image_pulled_by_digest_is_found_by_that_digest(tmp_path: Path, registry: str) -> None:
    first = new_store(tmp_path / "one")
    pull(first, f"{registry}/demo/app:v1")
    by_digest = next(n for n in first.get(f"{registry}/demo/app:v1").names if "@" in n)
    second = new_store(tmp_path / "two")
    pull(second, by_digest)
    assert second.get(by_digest).names == (by_digest,)
