"""Bearer tokens: challenges, the built-in token endpoint, scopes, and the token config."""

from __future__ import annotations

from pathlib import Path

import pytest
from auth_support import (
    WithHeaders,
    auth_client,
    auth_document,
    basic,
    bearer,
    get_token,
    parse_challenge,
    write_htpasswd,
)
from cryptography.hazmat.primitives import serialization
from falcon import testing
from porter_registry.config import ConfigError, build_config
from porter_registry.from_config import build_authorizer
from porter_registry.registry import Registry
from porter_registry.tokens import generate_key
from push_support import Pusher, digest_of

ALICE = basic("alice", "alice-secret")
BOB = basic("bob", "bob-secret")
TEAM_PUSH = "repository:team/app:pull,push"


@pytest.fixture
def client(registry: Registry, tmp_path: Path) -> testing.TestClient:
    document = auth_document("token", write_htpasswd(tmp_path / "htpasswd"))
    return auth_client(registry, {**document, "login_attempts_per_minute": 3})


def challenge(response) -> dict[str, str]:
    scheme, params = parse_challenge(response.headers["WWW-Authenticate"])
    assert scheme == "Bearer"
    return params


def test_the_version_check_challenges_with_realm_and_service(client) -> None:
    response = client.simulate_get("/v2/")
    assert response.status_code == 401
    assert challenge(response) == {
        "realm": "http://falconframework.org/token",
        "service": "porter-registry",
    }


def test_a_repository_request_is_challenged_with_its_scope(client) -> None:
    response = client.simulate_post("/v2/team/app/blobs/uploads/")
    assert response.status_code == 401
    assert challenge(response)["scope"] == TEAM_PUSH


def test_the_token_dance_lets_a_writer_push_and_pull(client) -> None:
    token = get_token(client, TEAM_PUSH, ALICE)
    assert client.simulate_get("/v2/", headers=bearer(token)).status_code == 200
    content = Pusher(WithHeaders(client, bearer(token))).image("team/app", "v1")
    response = client.simulate_get("/v2/team/app/manifests/v1", headers=bearer(token))
    assert response.content == content


def test_the_token_grants_only_what_the_policy_allows(client) -> None:
    token = get_token(client, TEAM_PUSH, BOB)
    response = client.simulate_post("/v2/team/app/blobs/uploads/", headers=bearer(token))
    assert response.status_code == 401
    assert challenge(response)["error"] == "insufficient_scope"
    assert challenge(response)["scope"] == TEAM_PUSH


def test_a_token_for_one_repository_does_not_open_another(client) -> None:
    token = get_token(client, "repository:team/app:pull", ALICE)
    response = client.simulate_get(f"/v2/secret/x/blobs/{digest_of(b'x')}", headers=bearer(token))
    assert challenge(response)["error"] == "insufficient_scope"


def test_a_forged_token_is_answered_invalid_token(client) -> None:
    token = get_token(client, TEAM_PUSH, ALICE)
    response = client.simulate_get("/v2/", headers=bearer(token[:-4] + "AAAA"))
    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"


def test_anonymous_pull_needs_no_token_where_the_policy_allows_it(client) -> None:
    token = get_token(client, "repository:public/app:push,pull", BOB)
    Pusher(WithHeaders(client, bearer(token))).blob("public/app", b"open")
    assert client.simulate_get(f"/v2/public/app/blobs/{digest_of(b'open')}").status_code == 200


def test_an_anonymous_token_carries_the_anonymous_grants(client) -> None:
    token = get_token(client, "repository:public/app:pull,push")
    response = client.simulate_get("/v2/", headers=bearer(token))
    assert response.status_code == 200
    response = client.simulate_post("/v2/public/app/blobs/uploads/", headers=bearer(token))
    assert challenge(response)["error"] == "insufficient_scope"


def test_the_catalog_needs_the_registry_catalog_scope(client) -> None:
    token = get_token(client, "registry:catalog:*", ALICE)
    assert client.simulate_get("/v2/_catalog", headers=bearer(token)).status_code == 200
    token = get_token(client, "registry:catalog:*", BOB)
    response = client.simulate_get("/v2/_catalog", headers=bearer(token))
    assert challenge(response)["scope"] == "registry:catalog:*"


def test_the_token_endpoint_refuses_a_wrong_password(client) -> None:
    response = client.simulate_get(
        "/token", params={"scope": TEAM_PUSH}, headers=basic("alice", "x")
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_the_token_endpoint_rate_limits_failed_logins(client) -> None:
    for _ in range(3):
        client.simulate_get("/token", headers=basic("alice", "x"))
    response = client.simulate_get("/token", headers=ALICE)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_the_token_endpoint_refuses_another_service(client) -> None:
    response = client.simulate_get("/token", params={"service": "elsewhere"}, headers=ALICE)
    assert response.status_code == 400


def test_the_token_endpoint_refuses_a_malformed_scope(client) -> None:
    response = client.simulate_get("/token", params={"scope": "repository"}, headers=ALICE)
    assert response.status_code == 400


def test_the_token_answer_has_the_spec_fields(client) -> None:
    response = client.simulate_get("/token", params={"scope": TEAM_PUSH}, headers=ALICE)
    body = response.json
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    assert body["issued_at"].endswith("Z")
    assert response.headers["Cache-Control"] == "no-store"


def _form(client, **fields: str):
    return client.simulate_post(
        "/token",
        body="&".join(f"{k}={v}" for k, v in fields.items()),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_the_oauth2_password_grant_issues_access_and_refresh_tokens(client) -> None:
    response = _form(
        client,
        grant_type="password",
        username="alice",
        password="alice-secret",
        scope=TEAM_PUSH,
        access_type="offline",
        service="porter-registry",
    )
    assert response.status_code == 200, response.text
    assert response.json["scope"] == TEAM_PUSH
    refreshed = _form(
        client,
        grant_type="refresh_token",
        scope="repository:team/app:pull",
        refresh_token=response.json["refresh_token"],
    )
    assert refreshed.status_code == 200, refreshed.text
    token = refreshed.json["access_token"]
    assert (
        client.simulate_head("/v2/team/app/manifests/x", headers=bearer(token)).status_code == 404
    )


def test_an_access_token_is_not_a_refresh_token(client) -> None:
    token = get_token(client, TEAM_PUSH, ALICE)
    assert _form(client, grant_type="refresh_token", refresh_token=token).status_code == 401


def test_the_oauth2_form_refuses_an_unknown_grant(client) -> None:
    assert _form(client, grant_type="client_credentials").status_code == 400


def _pem(tmp_path: Path, algorithm: str, public: bool) -> str:
    key = generate_key(algorithm)
    path = tmp_path / "key.pem"
    if public:
        path.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    else:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return str(path)


def test_an_rs256_key_file_signs_the_tokens(registry: Registry, tmp_path: Path) -> None:
    document = auth_document(
        "token",
        write_htpasswd(tmp_path / "htpasswd"),
        token_key=_pem(tmp_path, "RS256", False),
        token_algorithm="RS256",
    )
    client = auth_client(registry, document)
    token = get_token(client, TEAM_PUSH, ALICE)
    assert client.simulate_get("/v2/", headers=bearer(token)).status_code == 200


def test_a_public_key_trusts_an_outside_issuer_named_by_the_realm(
    registry: Registry, tmp_path: Path
) -> None:
    key = _pem(tmp_path, "ES256", True)
    document = {"kind": "token", "token_key": key, "token_realm": "https://auth.example/token"}
    client = auth_client(registry, document)
    assert challenge(client.simulate_get("/v2/"))["realm"] == "https://auth.example/token"
    assert client.simulate_get("/token").status_code == 404


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"token_key": "PUBLIC"}, "auth.token_realm: a public token key needs the issuer's URL"),
        ({"token_key": "PRIVATE", "token_algorithm": "RS256"}, "a ES256 key, but"),
        ({"token_algorithm": "HS256"}, "auth.token_algorithm 'HS256': use one of ES256, RS256"),
    ],
)
def test_an_unusable_token_configuration_is_refused(tmp_path: Path, auth, message) -> None:
    if auth.get("token_key") in ("PUBLIC", "PRIVATE"):
        auth = {**auth, "token_key": _pem(tmp_path, "ES256", auth["token_key"] == "PUBLIC")}
    with pytest.raises(ConfigError, match=message):
        build_authorizer(build_config({"auth": {"kind": "token", **auth}}).auth)
