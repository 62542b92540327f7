"""No write reaches storage without the right credentials, whichever auth kind is configured.

Every write endpoint (upload start, monolithic upload, PATCH, PUT, cancel, manifest PUT, the
DELETEs) is tried anonymously, with bad credentials and as a user who may only pull; each is
refused and the content is left as it was. A mount from a repository the client cannot pull
links nothing and opens an ordinary upload session instead, as CNCF distribution does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from auth_support import auth_client, auth_document, basic, bearer, get_token, write_htpasswd
from falcon import testing
from porter_registry.app import create_app
from porter_registry.registry import Registry
from push_support import Pusher, digest_of, manifest_bytes

LAYER = b"team layer"
SECRET = b"secret layer"


@dataclass
class World:
    registry: Registry
    client: testing.TestClient
    kind: str
    upload_id: str
    manifest_digest: str


@pytest.fixture(params=["htpasswd", "token"])
def world(request: pytest.FixtureRequest, registry: Registry, tmp_path: Path) -> World:
    pusher = Pusher(testing.TestClient(create_app(registry)))
    content = pusher.image("team/app", "v1", (LAYER,))
    pusher.blob("secret/x", SECRET)
    upload_id = registry.start_upload("team/app").upload_id
    registry.append_upload("team/app", upload_id, [b"first"])
    document = auth_document(request.param, write_htpasswd(tmp_path / "htpasswd"))
    client = auth_client(registry, document)
    return World(registry, client, request.param, upload_id, digest_of(content))


def writes(world: World) -> dict[str, tuple[str, str, dict, bytes]]:
    uploads = "/v2/team/app/blobs/uploads/"
    session = f"{uploads}{world.upload_id}"
    new = b"new blob"
    return {
        "start upload": ("POST", uploads, {}, b""),
        "monolithic upload": ("POST", uploads, {"digest": digest_of(new)}, new),
        "patch chunk": ("PATCH", session, {}, b"more"),
        "close upload": ("PUT", session, {"digest": digest_of(b"firstmore")}, b"more"),
        "cancel upload": ("DELETE", session, {}, b""),
        "put manifest": ("PUT", "/v2/team/app/manifests/v2", {}, manifest_bytes(layers=(LAYER,))),
        "delete tag": ("DELETE", "/v2/team/app/manifests/v1", {}, b""),
        "delete manifest": ("DELETE", f"/v2/team/app/manifests/{world.manifest_digest}", {}, b""),
        "delete blob": ("DELETE", f"/v2/team/app/blobs/{digest_of(LAYER)}", {}, b""),
    }


def credentials(world: World, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    if who == "wrong password":
        return basic("alice", "guess")
    if world.kind == "htpasswd":
        return basic("bob", "bob-secret")
    return bearer(
        get_token(world.client, "repository:team/app:pull,push,delete", basic("bob", "bob-secret"))
    )


def assert_intact(world: World) -> None:
    registry = world.registry
    assert registry.get_manifest("team/app", "v1").digest.encoded
    assert str(registry.resolve("team/app", "v1")) == world.manifest_digest
    assert registry.blob_size("team/app", registry.resolve("team/app", digest_of(LAYER))) > 0
    assert registry.upload_status("team/app", world.upload_id).offset == len(b"first")
    assert registry.tags("team/app") == ["v1"]


@pytest.mark.parametrize("who", ["anonymous", "wrong password", "pull-only user"])
@pytest.mark.parametrize(
    "write",
    [
        "start upload",
        "monolithic upload",
        "patch chunk",
        "close upload",
        "cancel upload",
        "put manifest",
        "delete tag",
        "delete manifest",
        "delete blob",
    ],
)
def test_a_write_without_push_rights_is_refused_and_changes_nothing(
    world: World, who: str, write: str
) -> None:
    method, path, params, body = writes(world)[write]
    headers = {
        **credentials(world, who),
        "Content-Type": "application/vnd.oci.image.manifest.v1+json",
    }
    response = world.client.simulate_request(
        method, path, params=params, body=body, headers=headers
    )
    expected = 403 if (world.kind, who) == ("htpasswd", "pull-only user") else 401
    assert response.status_code == expected, response.text
    assert response.json["errors"][0]["code"] == ("DENIED" if expected == 403 else "UNAUTHORIZED")
    assert_intact(world)


def _mount_secret(world: World, user: str) -> testing.Result:
    """`user` mounts secret/x's blob into public/app (where everyone may push)."""
    login = basic(user, f"{user}-secret")
    if world.kind == "htpasswd":
        headers = login
    else:
        scope = "repository:public/app:pull,push repository:secret/x:pull"
        headers = bearer(get_token(world.client, scope, login))
    return world.client.simulate_post(
        "/v2/public/app/blobs/uploads/",
        params={"mount": digest_of(SECRET), "from": "secret/x"},
        headers=headers,
    )


def _linked(world: World) -> bool:
    digest = world.registry.resolve("secret/x", digest_of(SECRET))
    return world.registry.repositories.has_blob("public/app", digest)


def test_a_mount_from_a_repository_the_user_cannot_pull_opens_a_plain_session(world: World) -> None:
    response = _mount_secret(world, "bob")
    assert response.status_code == 202, response.text
    assert response.headers["location"].startswith("/v2/public/app/blobs/uploads/")
    assert not _linked(world)


def test_a_mount_from_a_repository_the_user_may_pull_links_the_blob(world: World) -> None:
    response = _mount_secret(world, "alice")
    assert response.status_code == 201, response.text
    assert _linked(world)
