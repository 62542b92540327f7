"""Pull-through cache rules (CNCF distribution's proxy): tags re-checked, digests immutable,
HEAD without download, one fetch per blob however many clients miss it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from push_support import EMPTY_CONFIG, digest_of, manifest_bytes
from upstream_support import FakeUpstream, proxy_client

LAYER = b"upstream layer"


def test_a_retagged_upstream_manifest_is_served_on_the_next_pull(tmp_path: Path) -> None:
    upstream = FakeUpstream()
    client = proxy_client(tmp_path, upstream)
    assert client.simulate_get("/v2/lib/img/manifests/v1").content == upstream.manifest
    newer = manifest_bytes(EMPTY_CONFIG, (LAYER,), annotations={"v": "2"})
    upstream.retag("v1", newer)
    response = client.simulate_get("/v2/lib/img/manifests/v1")
    assert response.content == newer
    assert response.headers["docker-content-digest"] == digest_of(newer)
    assert f"manifest {digest_of(newer)}" in upstream.requests


def test_an_unchanged_tag_is_checked_but_not_fetched_again(tmp_path: Path) -> None:
    upstream = FakeUpstream()
    client = proxy_client(tmp_path, upstream)
    client.simulate_get("/v2/lib/img/manifests/v1")
    upstream.requests.clear()
    assert client.simulate_head("/v2/lib/img/manifests/v1").status_code == 200
    assert upstream.requests == ["tag v1"]


def test_a_cached_tag_is_served_while_the_upstream_is_unreachable(tmp_path: Path) -> None:
    upstream = FakeUpstream()
    client = proxy_client(tmp_path, upstream)
    client.simulate_get("/v2/lib/img/manifests/v1")
    upstream.reachable = False
    response = client.simulate_get("/v2/lib/img/manifests/v1")
    assert response.status_code == 200
    assert response.content == upstream.manifest


def test_a_manifest_by_digest_is_never_rechecked(tmp_path: Path) -> None:
    upstream = FakeUpstream()
    client = proxy_client(tmp_path, upstream)
    digest = digest_of(upstream.manifest)
    client.simulate_get(f"/v2/lib/img/manifests/{digest}")
    upstream.requests.clear()
    assert client.simulate_get(f"/v2/lib/img/manifests/{digest}").status_code == 200
    assert client.simulate_head(f"/v2/lib/img/manifests/{digest}").status_code == 200
    assert upstream.requests == []


def test_head_of_an_uncached_blob_downloads_nothing(tmp_path: Path) -> None:
    upstream = FakeUpstream()
    client = proxy_client(tmp_path, upstream)
    response = client.simulate_head(f"/v2/lib/img/blobs/{digest_of(LAYER)}")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(LAYER))
    assert response.headers["docker-content-digest"] == digest_of(LAYER)
    assert upstream.requests == [f"head {digest_of(LAYER)}"]
    assert not list((tmp_path / "cache").rglob("blobs/**/data"))


def test_head_of_a_blob_upstream_lacks_is_blob_unknown(tmp_path: Path) -> None:
    client = proxy_client(tmp_path, FakeUpstream())
    response = client.simulate_head(f"/v2/lib/img/blobs/{digest_of(b'nope')}")
    assert response.status_code == 404


def test_clients_missing_one_blob_together_fetch_it_once(tmp_path: Path) -> None:
    upstream = FakeUpstream()
    upstream.blob_delay = 0.3
    client = proxy_client(tmp_path, upstream)
    path = f"/v2/lib/img/blobs/{digest_of(LAYER)}"
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: client.simulate_get(path), range(4)))
    assert [a.content for a in answers] == [LAYER] * 4
    assert upstream.requests.count(f"blob {digest_of(LAYER)}") == 1


def test_a_blob_cached_for_another_repository_is_linked_without_download(
    tmp_path: Path,
) -> None:
    upstream = FakeUpstream()
    client = proxy_client(tmp_path, upstream)
    client.simulate_get(f"/v2/lib/img/blobs/{digest_of(LAYER)}")
    upstream.requests.clear()
    response = client.simulate_get(f"/v2/lib/other/blobs/{digest_of(LAYER)}")
    assert response.content == LAYER
    assert upstream.requests == [f"head {digest_of(LAYER)}"]


def _upload_sessions(tmp_path: Path) -> list[Path]:
    return [p for uploads in (tmp_path / "cache").rglob("_uploads") for p in uploads.iterdir()]


def test_a_filled_blob_leaves_no_upload_session(tmp_path: Path) -> None:
    client = proxy_client(tmp_path, FakeUpstream())
    assert client.simulate_get(f"/v2/lib/img/blobs/{digest_of(LAYER)}").content == LAYER
    assert _upload_sessions(tmp_path) == []


def test_upstream_bytes_that_miss_the_digest_are_refused_and_leave_no_session(
    tmp_path: Path,
) -> None:
    upstream = FakeUpstream()
    upstream.blobs[digest_of(LAYER)] = b"tampered layer"
    client = proxy_client(tmp_path, upstream)
    response = client.simulate_get(f"/v2/lib/img/blobs/{digest_of(LAYER)}")
    assert response.status_code != 200 and response.content != b"tampered layer"
    assert _upload_sessions(tmp_path) == []
    assert not list((tmp_path / "cache").rglob("blobs/**/data"))
