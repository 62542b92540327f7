"""Basic auth from htpasswd: challenges, logins, the policy, and the failed-login limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from auth_support import WithHeaders, auth_client, auth_document, basic, write_htpasswd
from falcon import testing
from porter_registry.config import ConfigError, build_config
from porter_registry.from_config import build_authorizer
from porter_registry.registry import Registry
from push_support import Pusher, digest_of

ALICE = basic("alice", "alice-secret")
BOB = basic("bob", "bob-secret")


@pytest.fixture
def client(registry: Registry, tmp_path: Path) -> testing.TestClient:
    document = auth_document("htpasswd", write_htpasswd(tmp_path / "htpasswd"))
    return auth_client(registry, {**document, "login_attempts_per_minute": 3})


def test_the_version_check_challenges_a_client_without_credentials(client) -> None:
    response = client.simulate_get("/v2/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="porter-registry",charset="UTF-8"'
    assert response.json["errors"][0]["code"] == "UNAUTHORIZED"


def test_the_version_check_answers_a_logged_in_client(client) -> None:
    assert client.simulate_get("/v2/", headers=ALICE).status_code == 200


def test_a_wrong_password_is_challenged_again(client) -> None:
    response = client.simulate_get("/v2/", headers=basic("alice", "nope"))
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_a_garbled_authorization_header_counts_as_no_credentials(client) -> None:
    response = client.simulate_get("/v2/", headers={"Authorization": "Basic !!!"})
    assert response.status_code == 401


def test_a_writer_pushes_and_a_reader_pulls(client) -> None:
    pusher = Pusher(WithHeaders(client, ALICE))
    content = pusher.image("team/app", "v1")
    response = client.simulate_get("/v2/team/app/manifests/v1", headers=BOB)
    assert response.status_code == 200
    assert response.content == content


def test_anonymous_pull_works_where_the_policy_allows_it(client) -> None:
    Pusher(WithHeaders(client, BOB)).blob("public/app", b"open")
    assert client.simulate_get(f"/v2/public/app/blobs/{digest_of(b'open')}").status_code == 200


def test_anonymous_pull_is_challenged_where_the_policy_does_not_allow_it(client) -> None:
    response = client.simulate_get(f"/v2/team/app/blobs/{digest_of(b'x')}")
    assert response.status_code == 401
    assert response.json["errors"][0]["detail"] == [
        {"Type": "repository", "Name": "team/app", "Action": "pull"}
    ]


def test_the_catalog_is_listed_for_whom_the_policy_allows(client) -> None:
    assert client.simulate_get("/v2/_catalog", headers=ALICE).status_code == 200
    assert client.simulate_get("/v2/_catalog", headers=BOB).status_code == 403


def test_repeated_failed_logins_are_answered_too_many_requests(client) -> None:
    for _ in range(3):
        assert client.simulate_get("/v2/", headers=basic("alice", "nope")).status_code == 401
    response = client.simulate_get("/v2/", headers=ALICE)
    assert response.status_code == 429
    assert response.json["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert client.simulate_get("/v2/", headers=BOB).status_code == 200


def test_the_htpasswd_kind_without_a_file_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"auth\.htpasswd: the htpasswd kind needs a users file"):
        build_authorizer(build_config({"auth": {"kind": "htpasswd"}}).auth)


def test_an_empty_basic_pair_is_anonymous(client) -> None:
    Pusher(WithHeaders(client, BOB)).blob("public/app", b"open")
    empty = {"Authorization": "Basic Og=="}
    response = client.simulate_get(f"/v2/public/app/blobs/{digest_of(b'open')}", headers=empty)
    assert response.status_code == 200
