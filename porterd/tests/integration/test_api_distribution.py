"""`GET /distribution/{name}/json` against real porter-registry processes on loopback: the
descriptor of the manifest or index a reference names and its platforms, as moby's
DistributionInspect; a missing image or registry is a 404, refused credentials a 401."""

from __future__ import annotations

import base64
import io
import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import bcrypt
import pytest
from falcon import testing
from porter_image.copy import CopyOptions, copy_image
from porter_image.distribution.auth import Credentials
from porter_image.distribution.client import RegistryOptions
from porter_image.distribution.manifests import RawManifest
from porter_image.endpoints.registry import RegistryDestination
from porter_image.layer.testing import archive, file
from porter_image.layout import Layout
from porter_image.reference import parse_docker_reference
from porter_image.snapshots.testing import layered_image
from porter_specs.digest import from_bytes
from porter_specs.media_types import IMAGE_CONFIG, IMAGE_MANIFEST
from porter_specs.models import Descriptor, Platform
from porterd.api.app import create_app
from porterd.images import RegistrySettings

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "porter-image" / "tests"))
from copy_test_support import PLATFORMS, make_index
from registry_support import host_of, running_registry

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
USER, PASSWORD = "ops", "ops-secret"
GUEST, GUEST_PASSWORD = "guest", "guest-secret"  # a known user the policy gives nothing


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """A layout holding a single-manifest image (`single`) and a two-platform index."""
    layout = Layout.create(tmp_path_factory.mktemp("source") / "layout")
    layered_image(layout, "single", [archive(file("hello", b"hi\n"))])
    make_index(layout, "multi")
    return layout


def pushed(layout: Layout, tag: str, target: str, credentials: Credentials | None = None):
    """Copy `tag` of `layout` to `target`; the descriptor of what the registry now holds."""
    copy_image(f"oci:{layout.path}:{tag}", f"docker://{target}", CopyOptions(
        dest_credentials=credentials, all_platforms=True))  # fmt: skip
    return layout.resolve(tag)


def pushed_with_config(target: str, config: bytes) -> None:
    """Push to `target` a manifest without layers whose config blob holds `config`."""
    descriptor = Descriptor(IMAGE_CONFIG, from_bytes(config), len(config))
    document = {"schemaVersion": 2, "mediaType": IMAGE_MANIFEST, "layers": []}
    data = json.dumps(document | {"config": descriptor.to_json()}).encode()
    destination = RegistryDestination(parse_docker_reference(target), RegistryOptions())
    try:
        destination.put_blob(descriptor, lambda: io.BytesIO(config), lambda _: None)
        destination.commit(RawManifest(data, IMAGE_MANIFEST, from_bytes(data)))
    finally:
        destination.close(failed=False)


@pytest.fixture(scope="module")
def registry(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`127.0.0.1:PORT` of an open registry holding demo/app:single and demo/app:multi."""
    with running_registry(tmp_path_factory.mktemp("registry")) as process:
        host = host_of(process.url)
        for tag in ("single", "multi"):
            pushed(layout, tag, f"{host}/demo/app:{tag}")
        yield host


@pytest.fixture(scope="module")
def secured(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A registry where only USER may pull team/app:single (Basic auth): its host."""
    folder = tmp_path_factory.mktemp("secured")
    htpasswd = folder / "htpasswd"
    htpasswd.write_text(
        "".join(
            f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()}\n"
            for user, password in ((USER, PASSWORD), (GUEST, GUEST_PASSWORD))
        )
    )
    policy = [{"repository": "team/*", "users": [USER], "actions": ["*"]}]
    config = folder / "registry.json"
    auth = {"kind": "htpasswd", "htpasswd": str(htpasswd), "policy": policy}
    config.write_text(json.dumps({"auth": auth}))
    with running_registry(folder / "data", "--config", str(config)) as process:
        host = host_of(process.url)
        pushed(layout, "single", f"{host}/team/app:single", Credentials(USER, PASSWORD))
        yield host


@pytest.fixture
def client() -> testing.TestClient:
    daemon = SimpleNamespace(images=SimpleNamespace(registry=RegistrySettings()))
    return testing.TestClient(create_app(daemon, routers=["distribution"]))


def inspect(client: testing.TestClient, name: str, auth: dict | None = None) -> testing.Result:
    headers = {}
    if auth is not None:
        headers["X-Registry-Auth"] = base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()
    return client.simulate_get(f"/v1.43/distribution/{name}/json", headers=headers)


def described(descriptor: Descriptor) -> dict:
    return {
        "mediaType": descriptor.media_type,
        "digest": str(descriptor.digest),
        "size": descriptor.size,
    }


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_tag_of_one_manifest_answers_its_descriptor_and_its_configs_platform(
    client: testing.TestClient, registry: str, layout: Layout
) -> None:
    answer = inspect(client, f"{registry}/demo/app:single")
    assert answer.status_code == 200
    host = Platform.host()
    assert answer.json == {
        "Descriptor": described(layout.resolve("single")),
        "Platforms": [{"architecture": host.architecture, "os": host.os}],
    }


def test_a_tag_of_an_index_answers_the_index_and_each_platform_in_it(
    client: testing.TestClient, registry: str, layout: Layout
) -> None:
    answer = inspect(client, f"{registry}/demo/app:multi")
    assert answer.status_code == 200
    assert answer.json["Descriptor"] == described(layout.resolve("multi"))
    assert answer.json["Platforms"] == [platform.to_json() for platform in PLATFORMS]


def test_a_digest_reference_answers_the_manifest_it_names(
    client: testing.TestClient, registry: str, layout: Layout
) -> None:
    digest = layout.resolve("single").digest
    answer = inspect(client, f"{registry}/demo/app@{digest}")
    assert answer.status_code == 200
    assert answer.json["Descriptor"]["digest"] == str(digest)


@pytest.mark.parametrize("config", [b"[]", b"not json"])
def test_a_config_that_is_no_json_object_is_a_400(
    client: testing.TestClient, registry: str, config: bytes
) -> None:
    pushed_with_config(f"{registry}/demo/broken:config", config)
    answer = inspect(client, f"{registry}/demo/broken:config")
    assert answer.status_code == 400
    assert "config" in answer.json["message"]


def test_an_unknown_tag_is_a_404(client: testing.TestClient, registry: str) -> None:
    answer = inspect(client, f"{registry}/demo/app:nosuch")
    assert answer.status_code == 404
    assert answer.json["message"].startswith(f"{registry}/demo/app:nosuch: not found")


def test_an_unknown_repository_is_a_404(client: testing.TestClient, registry: str) -> None:
    assert inspect(client, f"{registry}/demo/nosuch:v1").status_code == 404


def test_a_registry_that_cannot_be_reached_is_a_404(client: testing.TestClient) -> None:
    answer = inspect(client, f"127.0.0.1:{unused_port()}/demo/app:v1")
    assert answer.status_code == 404
    assert "\n" not in answer.json["message"]


def test_a_registry_that_needs_a_login_refuses_an_anonymous_client_with_a_401(
    client: testing.TestClient, secured: str
) -> None:
    assert inspect(client, f"{secured}/team/app:single").status_code == 401


def test_wrong_credentials_are_a_401(client: testing.TestClient, secured: str) -> None:
    auth = {"username": USER, "password": "wrong"}
    assert inspect(client, f"{secured}/team/app:single", auth).status_code == 401


def test_a_user_the_registry_denies_the_repository_gets_a_403(
    client: testing.TestClient, secured: str
) -> None:
    auth = {"username": GUEST, "password": GUEST_PASSWORD}
    assert inspect(client, f"{secured}/team/app:single", auth).status_code == 403


def test_the_credentials_of_x_registry_auth_are_used(
    client: testing.TestClient, secured: str, layout: Layout
) -> None:
    answer = inspect(client, f"{secured}/team/app:single", {"username": USER, "password": PASSWORD})
    assert answer.status_code == 200
    assert answer.json["Descriptor"] == described(layout.resolve("single"))


def test_a_malformed_reference_is_a_400(client: testing.TestClient) -> None:
    assert inspect(client, "UPPER/Case:tag").status_code == 400


def test_a_path_without_the_json_tail_is_a_404(client: testing.TestClient, registry: str) -> None:
    answer = client.simulate_get(f"/v1.43/distribution/{registry}/demo/app:single")
    assert answer.status_code == 404


def test_a_docker_hub_image_is_answered_by_a_registry_mirror(registry: str, layout: Layout) -> None:
    settings = RegistrySettings(registry_mirrors=(f"http://{registry}",))
    daemon = SimpleNamespace(images=SimpleNamespace(registry=settings))
    client = testing.TestClient(create_app(daemon, routers=["distribution"]))
    answer = inspect(client, "demo/app:single")
    assert answer.status_code == 200
    assert answer.json["Descriptor"] == described(layout.resolve("single"))
