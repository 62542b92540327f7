"""The seams left for auth and the pull-through cache behave as documented."""

from __future__ import annotations

from pathlib import Path

import falcon
from falcon import testing
from porter_registry.app import create_app
from porter_registry.errors import RegistryError
from push_support import Pusher, digest_of
from tests_common import make_registry
from upstream_support import FakeUpstream, proxy_client


class RecordingAuthorizer:
    """Allows everything except pushes to `locked`, remembering what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str | None, tuple[str, ...]]] = []

    def authorize(self, request: falcon.Request, repository: str | None, actions) -> None:
        self.calls.append((repository, tuple(actions)))
        if repository == "locked" and "push" in actions:
            raise RegistryError(
                "UNAUTHORIZED", headers={"WWW-Authenticate": 'Basic realm="porter-registry"'}
            )


def _client(tmp_path: Path, authorizer: RecordingAuthorizer) -> testing.TestClient:
    return testing.TestClient(create_app(make_registry(tmp_path / "d"), authorizer))


def test_authorizer_gets_repository_and_actions_per_request(tmp_path: Path) -> None:
    authorizer = RecordingAuthorizer()
    client = _client(tmp_path, authorizer)
    client.simulate_get("/v2/")
    client.simulate_get("/v2/_catalog")
    client.simulate_get("/v2/a/b/tags/list")
    client.simulate_post("/v2/a/b/blobs/uploads/")
    client.simulate_delete(f"/v2/a/b/manifests/{digest_of(b'x')}")
    assert authorizer.calls == [
        (None, ()),
        (None, ("catalog",)),
        ("a/b", ("pull",)),
        ("a/b", ("pull", "push")),
        ("a/b", ("delete",)),
    ]


def test_refusal_carries_its_challenge_header(tmp_path: Path) -> None:
    client = _client(tmp_path, RecordingAuthorizer())
    response = client.simulate_post("/v2/locked/blobs/uploads/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="porter-registry"'
    assert response.json["errors"][0]["code"] == "UNAUTHORIZED"


def test_cross_repository_mount_asks_pull_on_the_source(tmp_path: Path) -> None:
    authorizer = RecordingAuthorizer()
    client = _client(tmp_path, authorizer)
    digest = Pusher(client).blob("src", b"data")
    authorizer.calls.clear()
    client.simulate_post("/v2/dst/blobs/uploads/", params={"mount": digest, "from": "src"})
    assert authorizer.calls == [("dst", ("pull", "push")), ("src", ("pull",))]


def test_missing_manifest_is_fetched_upstream_then_cached(tmp_path: Path) -> None:
    upstream = FakeUpstream()
    client = proxy_client(tmp_path, upstream)
    digest = digest_of(upstream.manifest)
    first = client.simulate_get(f"/v2/lib/img/manifests/{digest}")
    second = client.simulate_get(f"/v2/lib/img/manifests/{digest}")
    assert first.content == second.content == upstream.manifest
    assert upstream.requests == [f"manifest {digest}"]


def test_missing_blob_is_fetched_upstream_verified_and_cached(tmp_path: Path) -> None:
    upstream = FakeUpstream()
    client = proxy_client(tmp_path, upstream)
    digest = digest_of(b"upstream layer")
    assert client.simulate_get(f"/v2/lib/img/blobs/{digest}").content == b"upstream layer"
    assert client.simulate_get(f"/v2/lib/img/blobs/{digest}").status_code == 200
    assert upstream.requests == [f"blob {digest}"]


def test_upstream_content_with_the_wrong_digest_is_refused(tmp_path: Path) -> None:
    upstream = FakeUpstream()
    digest = digest_of(b"honest")
    upstream.blobs[digest] = b"tampered"
    client = proxy_client(tmp_path, upstream)
    response = client.simulate_get(f"/v2/lib/img/blobs/{digest}")
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "DIGEST_INVALID"
    assert client.simulate_get(f"/v2/lib/img/blobs/{digest}").status_code == 400


def test_upstream_miss_is_a_plain_miss(tmp_path: Path) -> None:
    client = proxy_client(tmp_path, FakeUpstream())
    assert client.simulate_get("/v2/lib/img/manifests/v9").status_code == 404
    assert client.simulate_get(f"/v2/lib/img/blobs/{digest_of(b'?')}").status_code == 404
