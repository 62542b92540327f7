"""`serve --proxy URL`: a read-only cache of a second porter-registry on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from auth_support import GROUPS, POLICY, write_htpasswd
from http_client import HttpClient
from push_support import EMPTY_CONFIG, Pusher, digest_of
from registry_process import RegistryProcess, running_registry, start_registry

pytestmark = pytest.mark.integration

LAYERS = (b"first layer " * 1000, b"second layer " * 100_000)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class Pair:
    upstream: RegistryProcess
    proxy: RegistryProcess
    manifest: bytes

    def get(self, path: str, **headers: str) -> requests.Response:
        return requests.get(f"{self.proxy.url}{path}", headers=headers, timeout=30)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    with running_registry(tmp_path / "upstream" / "data") as upstream:
        manifest = Pusher(HttpClient(upstream.url)).image("team/app", "v1", LAYERS)
        with running_registry(tmp_path / "proxy" / "data", "--proxy", upstream.url) as proxy:
            yield Pair(upstream, proxy, manifest)


def test_a_pull_by_tag_goes_through_to_the_upstream(pair: Pair) -> None:
    response = pair.get("/v2/team/app/manifests/v1", Accept=OCI_MANIFEST)
    assert response.status_code == 200, response.text
    assert response.content == pair.manifest
    assert response.headers["Docker-Content-Digest"] == digest_of(pair.manifest)
    assert response.headers["Content-Type"] == OCI_MANIFEST


def test_a_pull_by_digest_goes_through_to_the_upstream(pair: Pair) -> None:
    response = pair.get(f"/v2/team/app/manifests/{digest_of(pair.manifest)}")
    assert response.status_code == 200
    assert response.content == pair.manifest
    for blob in (EMPTY_CONFIG, *LAYERS):
        response = pair.get(f"/v2/team/app/blobs/{digest_of(blob)}")
        assert response.status_code == 200
        assert response.content == blob


def test_pulled_content_is_served_from_the_cache_after_the_upstream_stops(pair: Pair) -> None:
    pair.get("/v2/team/app/manifests/v1")
    for blob in LAYERS:
        pair.get(f"/v2/team/app/blobs/{digest_of(blob)}")
    pair.upstream.stop()
    response = pair.get(f"/v2/team/app/manifests/{digest_of(pair.manifest)}")
    assert response.status_code == 200
    assert response.content == pair.manifest
    for blob in LAYERS:
        assert pair.get(f"/v2/team/app/blobs/{digest_of(blob)}").content == blob


def test_a_retagged_upstream_image_is_served_by_its_new_digest(pair: Pair) -> None:
    assert pair.get("/v2/team/app/manifests/v1").content == pair.manifest
    newer = Pusher(HttpClient(pair.upstream.url)).image("team/app", "v1", (b"a newer layer",))
    response = pair.get("/v2/team/app/manifests/v1", Accept=OCI_MANIFEST)
    assert response.status_code == 200
    assert response.headers["Docker-Content-Digest"] == digest_of(newer)
    assert response.content == newer
    head = requests.head(f"{pair.proxy.url}/v2/team/app/manifests/v1", timeout=30)
    assert head.headers["Docker-Content-Digest"] == digest_of(newer)


def test_a_cached_tag_is_served_while_the_upstream_is_down(pair: Pair) -> None:
    pair.get("/v2/team/app/manifests/v1")
    pair.upstream.stop()
    response = pair.get("/v2/team/app/manifests/v1")
    assert response.status_code == 200
    assert response.content == pair.manifest


def test_head_of_an_uncached_blob_answers_without_caching_it(pair: Pair) -> None:
    digest = digest_of(LAYERS[1])
    response = requests.head(f"{pair.proxy.url}/v2/team/app/blobs/{digest}", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(LAYERS[1]))
    assert response.headers["Docker-Content-Digest"] == digest
    assert not (pair.proxy.data / "blobs/sha256" / digest[7:9] / digest[7:]).exists()


def test_an_uncached_pull_with_the_upstream_stopped_is_a_miss(pair: Pair) -> None:
    pair.upstream.stop()
    response = pair.get(f"/v2/team/app/blobs/{digest_of(LAYERS[0])}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_content_the_upstream_lacks_is_unknown(pair: Pair) -> None:
    assert pair.get("/v2/team/app/manifests/nope").status_code == 404
    assert pair.get(f"/v2/team/app/blobs/{digest_of(b'nope')}").status_code == 404
    assert pair.get("/v2/team/other/manifests/v1").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("POST", "/v2/team/app/blobs/uploads/", {}),
        ("POST", "/v2/team/app/blobs/uploads/", {"digest": digest_of(b"x")}),
        ("PUT", "/v2/team/app/manifests/v2", {}),
        ("DELETE", "/v2/team/app/manifests/v1", {}),
        ("DELETE", f"/v2/team/app/blobs/{digest_of(LAYERS[0])}", {}),
    ],
)
def test_the_cache_refuses_writes_as_unsupported(
    pair: Pair, method: str, path: str, params
) -> None:
    pair.get("/v2/team/app/manifests/v1")
    response = requests.request(
        method, pair.proxy.url + path, params=params, data=b"x", timeout=30,
        headers={"Content-Type": OCI_MANIFEST},
    )  # fmt: skip
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"


def _token_upstream(tmp_path: Path) -> tuple[Path, Path]:
    htpasswd = write_htpasswd(tmp_path / "htpasswd")
    config = tmp_path / "upstream.json"
    auth = {"kind": "token", "htpasswd": str(htpasswd), "policy": POLICY, "groups": GROUPS}
    config.write_text(json.dumps({"auth": auth}))
    return config, htpasswd


@pytest.mark.parametrize(("user", "status"), [("bob", 200), ("mallory", 403)])
def test_an_upstream_with_token_auth_is_logged_in_to_with_the_configured_credentials(
    tmp_path: Path, user: str, status: int
) -> None:
    upstream_config, _ = _token_upstream(tmp_path)
    upstream = start_registry(tmp_path / "upstream" / "data", "--config", str(upstream_config))
    try:
        alice = get_token(upstream.url, "alice", "alice-secret", "repository:team/app:pull,push")
        manifest = Pusher(HttpClient(upstream.url, alice)).image("team/app", "v1", LAYERS)
        proxy_config = tmp_path / "proxy.json"
        proxy = {"url": upstream.url, "username": user, "password": f"{user}-secret"}
        proxy_config.write_text(json.dumps({"proxy": proxy}))
        with running_registry(tmp_path / "proxy" / "data", "--config", str(proxy_config)) as cache:
            response = requests.get(f"{cache.url}/v2/team/app/manifests/v1", timeout=30)
            assert response.status_code == status, response.text
            if status == 200:
                assert response.content == manifest
                blob = requests.get(f"{cache.url}/v2/team/app/blobs/{digest_of(LAYERS[1])}")
                assert blob.content == LAYERS[1]
            else:
                assert response.json()["errors"][0]["code"] == "DENIED"
    finally:
        upstream.stop()


def get_token(url: str, user: str, password: str, scope: str) -> dict[str, str]:
    answer = requests.get(
        f"{url}/token", params={"scope": scope}, auth=(user, password), timeout=30
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}
