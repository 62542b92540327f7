"""Manifests: PUT/GET/HEAD/DELETE by tag and digest, media types, checks and limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from falcon import testing
from porter_specs import media_types
from push_support import EMPTY_CONFIG, Pusher, digest_of, index_bytes, manifest_bytes
from tests_common import make_client

LAYER = b"layer-bytes"


def _push_parts(push: Pusher, name: str = "repo") -> bytes:
    push.blob(name, EMPTY_CONFIG)
    push.blob(name, LAYER)
    return manifest_bytes(EMPTY_CONFIG, (LAYER,))


def test_put_by_tag_then_get_by_tag_and_digest(client: testing.TestClient, push: Pusher) -> None:
    content = _push_parts(push)
    put = push.manifest("repo", "v1", content)
    digest = digest_of(content)
    assert put.headers["docker-content-digest"] == digest
    assert put.headers["location"] == f"/v2/repo/manifests/{digest}"
    for reference in ("v1", digest):
        response = client.simulate_get(f"/v2/repo/manifests/{reference}")
        assert response.status_code == 200
        assert response.content == content
        assert response.headers["content-type"] == media_types.IMAGE_MANIFEST
        assert response.headers["docker-content-digest"] == digest


def test_head_gives_digest_type_and_length(client: testing.TestClient, push: Pusher) -> None:
    content = _push_parts(push)
    push.manifest("repo", "v1", content)
    response = client.simulate_head("/v2/repo/manifests/v1")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["docker-content-digest"] == digest_of(content)
    assert response.content == b""


def test_put_by_matching_digest(client: testing.TestClient, push: Pusher) -> None:
    content = _push_parts(push)
    push.manifest("repo", digest_of(content), content)
    assert client.simulate_get(f"/v2/repo/manifests/{digest_of(content)}").status_code == 200


def test_put_by_mismatching_digest_is_digest_invalid(
    client: testing.TestClient, push: Pusher
) -> None:
    content = _push_parts(push)
    response = client.simulate_put(
        f"/v2/repo/manifests/{digest_of(b'other')}",
        body=content,
        headers={"Content-Type": media_types.IMAGE_MANIFEST},
    )
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "DIGEST_INVALID"


def test_missing_layer_is_manifest_blob_unknown(client: testing.TestClient, push: Pusher) -> None:
    push.blob("repo", EMPTY_CONFIG)
    content = manifest_bytes(EMPTY_CONFIG, (LAYER,))
    response = client.simulate_put(
        "/v2/repo/manifests/v1", body=content, headers={"Content-Type": media_types.IMAGE_MANIFEST}
    )
    assert response.status_code == 404
    assert response.json["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"
    assert response.json["errors"][0]["detail"] == {"digest": digest_of(LAYER)}


def test_missing_config_is_manifest_blob_unknown(client: testing.TestClient) -> None:
    content = manifest_bytes(EMPTY_CONFIG, ())
    response = client.simulate_put(
        "/v2/repo/manifests/v1", body=content, headers={"Content-Type": media_types.IMAGE_MANIFEST}
    )
    assert response.json["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_index_with_missing_child_is_manifest_blob_unknown(
    client: testing.TestClient, push: Pusher
) -> None:
    child = _push_parts(push)
    response = client.simulate_put(
        "/v2/repo/manifests/all",
        body=index_bytes([child]),
        headers={"Content-Type": media_types.IMAGE_INDEX},
    )
    assert response.status_code == 404
    assert response.json["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_index_with_pushed_children_is_served_as_index(
    client: testing.TestClient, push: Pusher
) -> None:
    child = _push_parts(push)
    push.manifest("repo", digest_of(child), child)
    index = index_bytes([child])
    push.manifest("repo", "all", index, media_types.IMAGE_INDEX)
    response = client.simulate_get("/v2/repo/manifests/all")
    assert response.headers["content-type"] == media_types.IMAGE_INDEX
    assert response.content == index


def test_docker_schema2_manifest_and_list_round_trip(
    client: testing.TestClient, push: Pusher
) -> None:
    push.blob("repo", EMPTY_CONFIG)
    push.blob("repo", LAYER)
    docker = manifest_bytes(
        EMPTY_CONFIG,
        (LAYER,),
        config_type=media_types.DOCKER_CONFIG,
        layer_type=media_types.DOCKER_LAYER_TAR_GZIP,
        media_type=media_types.DOCKER_MANIFEST,
    )
    push.manifest("repo", "docker", docker, media_types.DOCKER_MANIFEST)
    listing = index_bytes([docker], media_type=media_types.DOCKER_MANIFEST_LIST)
    push.manifest("repo", "list", listing, media_types.DOCKER_MANIFEST_LIST)
    assert (
        client.simulate_get("/v2/repo/manifests/docker").headers["content-type"]
        == media_types.DOCKER_MANIFEST
    )
    assert (
        client.simulate_get("/v2/repo/manifests/list").headers["content-type"]
        == media_types.DOCKER_MANIFEST_LIST
    )


def test_accept_excluding_the_stored_type_is_manifest_unknown(
    client: testing.TestClient, push: Pusher
) -> None:
    push.manifest("repo", "v1", _push_parts(push))
    response = client.simulate_get(
        "/v2/repo/manifests/v1", headers={"Accept": media_types.DOCKER_MANIFEST}
    )
    assert response.status_code == 404
    wildcard = client.simulate_get("/v2/repo/manifests/v1", headers={"Accept": "*/*"})
    assert wildcard.status_code == 200


def test_media_type_disagreeing_with_content_type_is_manifest_invalid(
    client: testing.TestClient, push: Pusher
) -> None:
    content = _push_parts(push)
    response = client.simulate_put(
        "/v2/repo/manifests/v1", body=content, headers={"Content-Type": media_types.IMAGE_INDEX}
    )
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "MANIFEST_INVALID"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"schemaVersion": 1}).encode(),
        json.dumps({"schemaVersion": 2, "config": {"digest": "nope"}, "layers": []}).encode(),
        json.dumps({"schemaVersion": 2, "mediaType": "text/plain"}).encode(),
    ],
)
def test_malformed_manifests_are_manifest_invalid(client: testing.TestClient, body: bytes) -> None:
    response = client.simulate_put(
        "/v2/repo/manifests/v1", body=body, headers={"Content-Type": media_types.IMAGE_MANIFEST}
    )
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "MANIFEST_INVALID"


def test_manifest_over_four_mebibytes_is_refused_413(client: testing.TestClient) -> None:
    body = b" " * (4 * 1024 * 1024 + 1)
    response = client.simulate_put(
        "/v2/repo/manifests/v1", body=body, headers={"Content-Type": media_types.IMAGE_MANIFEST}
    )
    assert response.status_code == 413
    assert response.json["errors"][0]["code"] == "MANIFEST_INVALID"


def test_invalid_tag_is_refused(client: testing.TestClient, push: Pusher) -> None:
    content = _push_parts(push)
    response = client.simulate_put(
        "/v2/repo/manifests/-bad",
        body=content,
        headers={"Content-Type": media_types.IMAGE_MANIFEST},
    )
    assert response.status_code == 400


def test_unknown_manifest_is_manifest_unknown(client: testing.TestClient) -> None:
    for reference in ("nope", digest_of(b"nope")):
        response = client.simulate_get(f"/v2/repo/manifests/{reference}")
        assert response.status_code == 404
        assert response.json["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_delete_by_digest_removes_manifest_and_its_tags(
    client: testing.TestClient, push: Pusher
) -> None:
    content = _push_parts(push)
    push.manifest("repo", "v1", content)
    assert client.simulate_delete(f"/v2/repo/manifests/{digest_of(content)}").status_code == 202
    assert client.simulate_get(f"/v2/repo/manifests/{digest_of(content)}").status_code == 404
    assert client.simulate_get("/v2/repo/manifests/v1").status_code == 404


def test_delete_by_tag_removes_only_the_tag(client: testing.TestClient, push: Pusher) -> None:
    content = _push_parts(push)
    push.manifest("repo", "v1", content)
    assert client.simulate_delete("/v2/repo/manifests/v1").status_code == 202
    assert client.simulate_get("/v2/repo/manifests/v1").status_code == 404
    assert client.simulate_get(f"/v2/repo/manifests/{digest_of(content)}").status_code == 200


def test_delete_of_unknown_manifest_is_404(client: testing.TestClient) -> None:
    response = client.simulate_delete(f"/v2/repo/manifests/{digest_of(b'x')}")
    assert response.status_code == 404
    assert response.json["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_manifest_delete_is_unsupported_when_disabled(tmp_path: Path) -> None:
    client = make_client(tmp_path / "d", delete_enabled=False)
    push = Pusher(client)
    push.manifest("repo", "v1", _push_parts(push))
    assert client.simulate_delete("/v2/repo/manifests/v1").status_code == 405


def test_read_only_registry_refuses_pushes(tmp_path: Path) -> None:
    client = make_client(tmp_path / "ro", read_only=True)
    response = client.simulate_post("/v2/repo/blobs/uploads/")
    assert response.status_code == 405
    assert response.json["errors"][0]["code"] == "UNSUPPORTED"


def test_retagging_moves_the_tag(client: testing.TestClient, push: Pusher) -> None:
    first = _push_parts(push)
    push.manifest("repo", "v1", first)
    push.blob("repo", b"second layer")
    second = manifest_bytes(EMPTY_CONFIG, (b"second layer",))
    push.manifest("repo", "v1", second)
    response = client.simulate_get("/v2/repo/manifests/v1")
    assert response.headers["docker-content-digest"] == digest_of(second)
