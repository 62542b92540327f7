"""Uploads: monolithic, chunked (in order only), status, cancel, mounts."""

from __future__ import annotations

from falcon import testing
from push_support import Pusher, digest_of

DATA = b"a" * 1000 + b"b" * 1000


def _open(client: testing.TestClient, name: str = "repo") -> str:
    response = client.simulate_post(f"/v2/{name}/blobs/uploads/")
    assert response.status_code == 202
    return response.headers["location"]


def _patch(client: testing.TestClient, location: str, chunk: bytes, start: int | None = None):
    headers = {"Content-Type": "application/octet-stream"}
    if start is not None:
        headers["Content-Range"] = f"{start}-{start + len(chunk) - 1}"
    return client.simulate_patch(location, body=chunk, headers=headers)


def test_post_opens_a_session_with_location_uuid_and_range(client: testing.TestClient) -> None:
    response = client.simulate_post("/v2/repo/blobs/uploads/")
    assert response.status_code == 202
    upload_id = response.headers["docker-upload-uuid"]
    assert response.headers["location"] == f"/v2/repo/blobs/uploads/{upload_id}"
    assert response.headers["range"] == "0-0"


def test_monolithic_post_with_digest_creates_the_blob(client: testing.TestClient) -> None:
    digest = digest_of(DATA)
    response = client.simulate_post("/v2/repo/blobs/uploads/", params={"digest": digest}, body=DATA)
    assert response.status_code == 201
    assert response.headers["location"] == f"/v2/repo/blobs/{digest}"
    assert response.headers["docker-content-digest"] == digest


def test_monolithic_post_with_wrong_digest_is_digest_invalid(client: testing.TestClient) -> None:
    response = client.simulate_post(
        "/v2/repo/blobs/uploads/", params={"digest": digest_of(b"other")}, body=DATA
    )
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "DIGEST_INVALID"
    assert client.simulate_head(f"/v2/repo/blobs/{digest_of(b'other')}").status_code == 404


def test_monolithic_put_after_post(client: testing.TestClient) -> None:
    location = _open(client)
    response = client.simulate_put(location, params={"digest": digest_of(DATA)}, body=DATA)
    assert response.status_code == 201
    assert client.simulate_get(f"/v2/repo/blobs/{digest_of(DATA)}").content == DATA


def test_chunks_in_order_then_put_close(client: testing.TestClient) -> None:
    location = _open(client)
    first = _patch(client, location, DATA[:700], start=0)
    assert first.status_code == 202
    assert first.headers["range"] == "0-699"
    second = _patch(client, first.headers["location"], DATA[700:], start=700)
    assert second.headers["range"] == f"0-{len(DATA) - 1}"
    done = client.simulate_put(second.headers["location"], params={"digest": digest_of(DATA)})
    assert done.status_code == 201
    assert client.simulate_get(f"/v2/repo/blobs/{digest_of(DATA)}").content == DATA


def test_streamed_patch_without_content_range_appends(client: testing.TestClient) -> None:
    location = _open(client)
    _patch(client, location, DATA[:10])
    response = _patch(client, location, DATA[10:])
    assert response.headers["range"] == f"0-{len(DATA) - 1}"


def test_out_of_order_chunk_is_416_and_changes_nothing(client: testing.TestClient) -> None:
    location = _open(client)
    _patch(client, location, DATA[:100], start=0)
    response = _patch(client, location, DATA[200:300], start=200)
    assert response.status_code == 416
    assert response.headers["range"] == "0-99"
    status = client.simulate_get(location)
    assert status.headers["range"] == "0-99"


def test_malformed_content_range_is_416(client: testing.TestClient) -> None:
    location = _open(client)
    response = client.simulate_patch(location, body=b"xx", headers={"Content-Range": "nonsense"})
    assert response.status_code == 416


def test_status_is_204_with_range(client: testing.TestClient) -> None:
    location = _open(client)
    _patch(client, location, DATA[:5], start=0)
    response = client.simulate_get(location)
    assert response.status_code == 204
    assert response.headers["range"] == "0-4"
    assert response.headers["docker-upload-uuid"] in location


def test_put_with_wrong_digest_is_digest_invalid(client: testing.TestClient) -> None:
    location = _open(client)
    _patch(client, location, DATA, start=0)
    response = client.simulate_put(location, params={"digest": digest_of(b"else")})
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "DIGEST_INVALID"


def test_put_without_digest_is_digest_invalid(client: testing.TestClient) -> None:
    location = _open(client)
    assert client.simulate_put(location, body=DATA).status_code == 400


def test_put_verifies_a_sha512_digest(client: testing.TestClient) -> None:
    import hashlib

    digest = f"sha512:{hashlib.sha512(DATA).hexdigest()}"
    location = _open(client)
    response = client.simulate_put(location, params={"digest": digest}, body=DATA)
    assert response.status_code == 201
    assert client.simulate_get(f"/v2/repo/blobs/{digest}").content == DATA


def test_cancel_forgets_the_session(client: testing.TestClient) -> None:
    location = _open(client)
    assert client.simulate_delete(location).status_code == 204
    response = client.simulate_get(location)
    assert response.status_code == 404
    assert response.json["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


def test_unknown_session_is_blob_upload_unknown(client: testing.TestClient) -> None:
    for upload_id in ("0" * 32, "..", "zz"):
        response = client.simulate_patch(f"/v2/repo/blobs/uploads/{upload_id}", body=b"x")
        assert response.status_code == 404, upload_id
        assert response.json["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


def test_session_is_gone_after_put(client: testing.TestClient) -> None:
    location = _open(client)
    client.simulate_put(location, params={"digest": digest_of(DATA)}, body=DATA)
    assert client.simulate_get(location).status_code == 404


def test_mount_from_a_repository_holding_the_blob_is_201(
    client: testing.TestClient, push: Pusher
) -> None:
    digest = push.blob("source", DATA)
    response = client.simulate_post(
        "/v2/target/blobs/uploads/", params={"mount": digest, "from": "source"}
    )
    assert response.status_code == 201
    assert response.headers["location"] == f"/v2/target/blobs/{digest}"
    assert client.simulate_get(f"/v2/target/blobs/{digest}").content == DATA


def test_mount_without_from_of_a_known_blob_is_201(
    client: testing.TestClient, push: Pusher
) -> None:
    digest = push.blob("source", DATA)
    response = client.simulate_post("/v2/target/blobs/uploads/", params={"mount": digest})
    assert response.status_code == 201


def test_mount_of_unknown_blob_opens_a_session(client: testing.TestClient) -> None:
    response = client.simulate_post(
        "/v2/target/blobs/uploads/", params={"mount": digest_of(b"?"), "from": "source"}
    )
    assert response.status_code == 202
    assert "/blobs/uploads/" in response.headers["location"]


def test_mount_from_a_repository_lacking_the_blob_opens_a_session(
    client: testing.TestClient, push: Pusher
) -> None:
    digest = push.blob("source", DATA)
    response = client.simulate_post(
        "/v2/target/blobs/uploads/", params={"mount": digest, "from": "elsewhere"}
    )
    assert response.status_code == 202


def test_upload_to_invalid_name_is_name_invalid(client: testing.TestClient) -> None:
    response = client.simulate_post("/v2/Bad_Name/blobs/uploads/")
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "NAME_INVALID"


def test_pushing_the_same_blob_twice_keeps_one_copy(
    client: testing.TestClient, push: Pusher, data
) -> None:
    push.blob("one", DATA)
    push.blob("two", DATA)
    stored = list((data / "blobs").rglob("data"))
    assert len(stored) == 1
