"""The image routes through falcon.testing, over a real store in tmp_path."""

from __future__ import annotations

import base64
import functools
import http.server
import io
import json
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import falcon
import falcon.testing
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from image_support import add_image, new_store, users
from porter_image.layer.testing import archive, file
from porterd.api.app import create_app
from porterd.images import ContainerUse, ImageStore

BUSYBOX = "docker.io/library/busybox:latest"


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return new_store(tmp_path)


LOCAL = "localhost:5000/team/app:v1"


@pytest.fixture
def client(store: ImageStore) -> falcon.testing.TestClient:
    return _client_of(store)


def _client_of(store: ImageStore) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(SimpleNamespace(images=store), routers=["images"]))


def rootfs_tar(files: dict[str, bytes]) -> bytes:
    return archive(*(file(name, data) for name, data in files.items()))


def test_list_shows_named_images_in_dockers_shape(client, store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX], config={"Labels": {"a": "b"}}, created=1_700_000_000)
    result = client.simulate_get("/v1.43/images/json")
    assert result.status_code == 200
    assert result.json == [
        {
            "Id": stored.id,
            "ParentId": "",
            "RepoTags": ["busybox:latest"],
            "RepoDigests": [],
            "Created": 1_700_000_000,
            "Size": stored.size,
            "SharedSize": -1,
            "VirtualSize": stored.size,
            "Labels": {"a": "b"},
            "Containers": -1,
        }
    ]


def test_list_hides_dangling_images_unless_all_or_asked(client, store: ImageStore) -> None:
    add_image(store, [BUSYBOX], {"v": b"1"})
    dangling = add_image(store, [], {"v": b"2"})
    assert len(client.simulate_get("/images/json").json) == 1
    assert len(client.simulate_get("/images/json", params={"all": "1"}).json) == 2
    only = client.simulate_get("/images/json", params={"filters": '{"dangling":["true"]}'})
    assert [i["Id"] for i in only.json] == [dangling.id]


@pytest.mark.parametrize(("pattern", "count"), [("busybox", 1), ("busy*", 1), ("other", 0)])
def test_list_filters_by_reference(client, store: ImageStore, pattern: str, count: int) -> None:
    add_image(store, [BUSYBOX])
    filters = json.dumps({"reference": [pattern]})
    assert len(client.simulate_get("/images/json", params={"filters": filters}).json) == count


def test_list_refuses_an_unknown_filter(client) -> None:
    result = client.simulate_get("/images/json", params={"filters": '{"colour":["red"]}'})
    assert result.status_code == 400 and "colour" in result.json["message"]


def test_inspect_takes_a_name_with_a_registry_and_slashes(client, store: ImageStore) -> None:
    stored = add_image(store, [LOCAL], config={"Cmd": ["sh"], "Env": ["A=1"]})
    result = client.simulate_get(f"/v1.41/images/{LOCAL}/json")
    assert result.status_code == 200
    assert result.json["Id"] == stored.id
    assert result.json["RepoTags"] == [LOCAL]
    assert result.json["Config"]["Cmd"] == ["sh"] and result.json["Config"]["Env"] == ["A=1"]
    assert result.json["RootFS"] == {"Type": "layers", "Layers": [str(stored.diff_ids[0])]}
    assert result.json["GraphDriver"]["Name"] == "overlay2"
    assert result.json["GraphDriver"]["Data"]["LowerDir"]


def test_inspect_of_an_unknown_image_is_404_with_dockers_message(client) -> None:
    result = client.simulate_get("/images/nothing/json")
    assert result.status_code == 404
    assert result.json == {"message": "No such image: nothing:latest"}


def test_an_unknown_tail_is_404(client, store: ImageStore) -> None:
    add_image(store, [BUSYBOX])
    assert client.simulate_get("/images/busybox/unknown").status_code == 404


def test_history_is_newest_first_with_the_id_on_top(client, store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX])
    result = client.simulate_get("/images/busybox/history")
    assert result.status_code == 200
    (top,) = result.json
    assert top["Id"] == stored.id and top["Tags"] == ["busybox:latest"]
    assert top["CreatedBy"] == "layer 0" and top["Size"] == stored.size


def test_tag_answers_201_and_the_new_name_resolves(client, store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX])
    result = client.simulate_post(
        f"/images/{stored.short_id}/tag", params={"repo": "localhost:5000/x", "tag": "v2"}
    )
    assert result.status_code == 201
    assert client.simulate_get("/images/localhost:5000/x:v2/json").json["Id"] == stored.id


def test_tag_with_a_malformed_repository_is_400(client, store: ImageStore) -> None:
    add_image(store, [BUSYBOX])
    result = client.simulate_post("/images/busybox/tag", params={"repo": "Bad Name"})
    assert result.status_code == 400


def test_delete_answers_the_untagged_and_deleted_lines(client, store: ImageStore) -> None:
    stored = add_image(store, [LOCAL])
    result = client.simulate_delete(f"/images/{LOCAL}")
    assert result.status_code == 200
    assert result.json[:2] == [{"Untagged": LOCAL}, {"Deleted": stored.id}]


def test_delete_of_an_image_a_container_uses_is_409(client, store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX])
    users(store)[stored.id] = [ContainerUse("f" * 64, running=True)]
    result = client.simulate_delete(f"/images/{stored.id}", params={"force": "1"})
    assert result.status_code == 409 and "running container" in result.json["message"]


def test_prune_reports_what_it_deleted(client, store: ImageStore) -> None:
    add_image(store, [BUSYBOX], {"v": b"1"})
    dangling = add_image(store, [], {"v": b"2"})
    result = client.simulate_post("/images/prune")
    assert result.status_code == 200
    assert result.json["ImagesDeleted"][0] == {"Deleted": dangling.id}
    assert result.json["SpaceReclaimed"] == dangling.size


def test_prune_with_nothing_to_do_answers_null(client) -> None:
    result = client.simulate_post("/images/prune")
    assert result.json == {"ImagesDeleted": None, "SpaceReclaimed": 0}


def test_import_makes_a_one_layer_image_with_the_changes(client, store: ImageStore) -> None:
    result = client.simulate_post(
        "/images/create",
        params={"fromSrc": "-", "repo": "imported", "tag": "v1", "changes": 'CMD ["sh"]'},
        body=rootfs_tar({"etc/motd": b"hello\n"}),
    )
    assert result.status_code == 200
    image_id = result.json["status"]
    inspected = client.simulate_get("/images/imported:v1/json").json
    assert inspected["Id"] == image_id and inspected["Config"]["Cmd"] == ["sh"]
    assert inspected["Comment"] == "Imported from -"
    lower = Path(inspected["GraphDriver"]["Data"]["LowerDir"])
    assert (lower / "etc" / "motd").read_bytes() == b"hello\n"


def test_import_of_something_that_is_not_a_tar_is_400(client) -> None:
    result = client.simulate_post(
        "/images/create", params={"fromSrc": "-"}, body=b"this is not a tar archive" * 40
    )
    assert result.status_code == 400


def test_import_with_an_unknown_change_is_400(client) -> None:
    result = client.simulate_post(
        "/images/create", params={"fromSrc": "-", "changes": "RUN true"}, body=rootfs_tar({})
    )
    assert result.status_code == 400 and "RUN" in result.json["message"]


def test_create_without_an_image_or_a_source_is_400(client) -> None:
    assert client.simulate_post("/images/create").status_code == 400


def test_pull_of_a_malformed_reference_is_400(client) -> None:
    result = client.simulate_post("/images/create", params={"fromImage": "UPPER/Case"})
    assert result.status_code == 400


def test_a_registry_auth_header_that_is_not_base64_json_is_400(client) -> None:
    result = client.simulate_post(
        "/images/create",
        params={"fromImage": "127.0.0.1:1/x"},
        headers={"X-Registry-Auth": base64.urlsafe_b64encode(b"[1]").decode()},
    )
    assert result.status_code == 400 and "X-Registry-Auth" in result.json["message"]


def test_save_then_load_into_another_store_keeps_the_id_and_name(
    client, store: ImageStore, tmp_path: Path
) -> None:
    stored = add_image(store, [BUSYBOX], config={"Cmd": ["sh"]})
    saved = client.simulate_get("/images/busybox/get")
    assert saved.status_code == 200 and saved.headers["content-type"] == "application/x-tar"
    other = new_store(tmp_path / "other")
    loaded = _client_of(other).simulate_post("/images/load", body=saved.content)
    assert loaded.status_code == 200
    assert loaded.json == {"stream": "Loaded image: busybox:latest\n"}
    assert other.get("busybox").id == stored.id


def test_saving_several_names_writes_one_archive_with_each(client, store: ImageStore) -> None:
    add_image(store, [BUSYBOX], {"v": b"1"})
    add_image(store, [LOCAL], {"v": b"2"})
    result = client.simulate_get("/images/get", params={"names": ["busybox", LOCAL]})
    with tarfile.open(fileobj=io.BytesIO(result.content)) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert sorted(tag for entry in manifest for tag in entry["RepoTags"]) == [
        "busybox:latest",
        LOCAL,
    ]


def test_saving_by_id_writes_the_image_without_names(client, store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX])
    result = client.simulate_get(f"/images/{stored.short_id}/get")
    with tarfile.open(fileobj=io.BytesIO(result.content)) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["RepoTags"] is None


def test_saving_an_unknown_image_is_404_before_any_byte(client) -> None:
    assert client.simulate_get("/images/nothing/get").status_code == 404
    assert client.simulate_get("/images/get", params={"names": "nothing"}).status_code == 404


def test_loading_something_that_is_not_an_archive_is_400(client, store: ImageStore) -> None:
    result = client.simulate_post("/images/load", body=b"garbage" * 100)
    assert result.status_code == 400 and "tar" in result.json["message"]
    assert store.images() == []


def test_loading_an_image_without_names_answers_its_id(
    client, store: ImageStore, tmp_path: Path
) -> None:
    stored = add_image(store, [BUSYBOX])
    saved = client.simulate_get(f"/images/{stored.id}/get").content
    other = new_store(tmp_path / "other")
    loaded = _client_of(other).simulate_post("/images/load", body=saved)
    assert loaded.json == {"stream": f"Loaded image ID: {stored.id}\n"}
    assert other.get(stored.id).names == ()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """An http server on loopback serving tmp_path/www; its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_import_fetches_a_tar_from_a_url(client, served: str, tmp_path: Path) -> None:
    (tmp_path / "www" / "rootfs.tar").write_bytes(rootfs_tar({"hello": b"hi\n"}))
    result = client.simulate_post(
        "/images/create", params={"fromSrc": f"{served}/rootfs.tar", "repo": "fetched"}
    )
    assert result.status_code == 200
    inspected = client.simulate_get("/images/fetched/json").json
    assert inspected["Comment"] == f"Imported from {served}/rootfs.tar"


def test_import_from_a_url_that_is_not_there_is_400(client, served: str) -> None:
    result = client.simulate_post("/images/create", params={"fromSrc": f"{served}/missing.tar"})
    assert result.status_code == 400 and "HTTP 404" in result.json["message"]


def test_import_from_something_that_is_not_a_url_is_400(client) -> None:
    result = client.simulate_post("/images/create", params={"fromSrc": "/etc/passwd"})
    assert result.status_code == 400


def test_list_filters_by_label_and_by_before_and_since(client, store: ImageStore) -> None:
    old = add_image(store, [BUSYBOX], {"v": b"1"}, config={"Labels": {"tier": "base"}}, created=10)
    mid = add_image(store, ["docker.io/library/mid:latest"], {"v": b"2"}, created=20)
    new = add_image(store, ["docker.io/library/new:latest"], {"v": b"3"}, created=30)

    def ids(filters: dict[str, list[str]]) -> list[str]:
        result = client.simulate_get("/images/json", params={"filters": json.dumps(filters)})
        return [image["Id"] for image in result.json]

    assert ids({"label": ["tier=base"]}) == [old.id]
    assert ids({"label": ["tier"]}) == [old.id]
    assert ids({"before": ["mid"]}) == [old.id]
    assert ids({"since": ["mid"]}) == [new.id]
    assert mid.id in ids({"until": ["25"]}) and new.id not in ids({"until": ["25"]})


def test_a_before_filter_naming_no_image_is_404(client) -> None:
    result = client.simulate_get("/images/json", params={"filters": '{"before":["nothing"]}'})
    assert result.status_code == 404


def test_inspect_keeps_config_fields_the_oci_model_does_not_name(client, store) -> None:
    check = {"Test": ["CMD", "true"], "Interval": 1_000_000_000}
    add_image(store, [BUSYBOX], config={"Healthcheck": check, "Shell": ["/bin/ash", "-c"]})
    config = client.simulate_get("/images/busybox/json").json["Config"]
    assert config["Healthcheck"] == check and config["Shell"] == ["/bin/ash", "-c"]
    assert config["Tty"] is False and config["Cmd"] is None
