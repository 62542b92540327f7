"""Blob GET, HEAD (with ranges) and DELETE."""

from __future__ import annotations

from pathlib import Path

from falcon import testing
from push_support import Pusher, digest_of
from tests_common import make_client

DATA = b"0123456789abcdef"


def test_get_returns_the_blob_with_its_digest(client: testing.TestClient, push: Pusher) -> None:
    digest = push.blob("repo", DATA)
    response = client.simulate_get(f"/v2/repo/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["docker-content-digest"] == digest
    assert response.headers["content-length"] == str(len(DATA))


def test_head_gives_length_without_body(client: testing.TestClient, push: Pusher) -> None:
    digest = push.blob("repo", DATA)
    response = client.simulate_head(f"/v2/repo/blobs/{digest}")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(DATA))
    assert response.content == b""


def test_range_request_gets_206_and_the_slice(client: testing.TestClient, push: Pusher) -> None:
    digest = push.blob("repo", DATA)
    response = client.simulate_get(f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=2-5"})
    assert response.status_code == 206
    assert response.content == DATA[2:6]
    assert response.headers["content-range"] == f"bytes 2-5/{len(DATA)}"


def test_open_ended_and_suffix_ranges(client: testing.TestClient, push: Pusher) -> None:
    digest = push.blob("repo", DATA)
    open_ended = client.simulate_get(f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=10-"})
    suffix = client.simulate_get(f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=-3"})
    assert open_ended.content == DATA[10:]
    assert suffix.content == DATA[-3:]


def test_unsatisfiable_range_is_416(client: testing.TestClient, push: Pusher) -> None:
    digest = push.blob("repo", DATA)
    response = client.simulate_get(f"/v2/repo/blobs/{digest}", headers={"Range": "bytes=99-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"


def test_unknown_blob_is_blob_unknown(client: testing.TestClient) -> None:
    response = client.simulate_get(f"/v2/repo/blobs/{digest_of(b'nope')}")
    assert response.status_code == 404
    assert response.json["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_blob_of_another_repository_is_not_served(client: testing.TestClient, push: Pusher) -> None:
    digest = push.blob("one", DATA)
    assert client.simulate_head(f"/v2/two/blobs/{digest}").status_code == 404


def test_malformed_digest_is_digest_invalid(client: testing.TestClient) -> None:
    response = client.simulate_get("/v2/repo/blobs/sha256:xyz")
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "DIGEST_INVALID"


def test_delete_unlinks_the_blob_from_the_repository(
    client: testing.TestClient, push: Pusher
) -> None:
    digest = push.blob("repo", DATA)
    push.blob("other", DATA)
    assert client.simulate_delete(f"/v2/repo/blobs/{digest}").status_code == 202
    assert client.simulate_head(f"/v2/repo/blobs/{digest}").status_code == 404
    assert client.simulate_head(f"/v2/other/blobs/{digest}").status_code == 200


def test_delete_of_unknown_blob_is_404(client: testing.TestClient) -> None:
    response = client.simulate_delete(f"/v2/repo/blobs/{digest_of(b'x')}")
    assert response.status_code == 404
    assert response.json["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_delete_is_unsupported_when_disabled(tmp_path: Path) -> None:
    client = make_client(tmp_path / "nodelete", delete_enabled=False)
    digest = Pusher(client).blob("repo", DATA)
    response = client.simulate_delete(f"/v2/repo/blobs/{digest}")
    assert response.status_code == 405
    assert response.json["errors"][0]["code"] == "UNSUPPORTED"


def test_empty_blob_round_trips(client: testing.TestClient, push: Pusher) -> None:
    digest = push.blob("repo", b"")
    response = client.simulate_get(f"/v2/repo/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == b""
