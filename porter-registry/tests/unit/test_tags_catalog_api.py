"""Tags list and catalog: lexical order, `n` and `last`, RFC 5988 Link header."""

from __future__ import annotations

from falcon import testing
from push_support import EMPTY_CONFIG, Pusher, manifest_bytes

TAGS = ["b", "a", "c", "d", "e"]


def _tag_all(push: Pusher, name: str = "repo") -> None:
    push.blob(name, EMPTY_CONFIG)
    content = manifest_bytes()
    for tag in TAGS:
        push.manifest(name, tag, content)


def test_tags_are_listed_in_lexical_order(client: testing.TestClient, push: Pusher) -> None:
    _tag_all(push)
    response = client.simulate_get("/v2/repo/tags/list")
    assert response.json == {"name": "repo", "tags": sorted(TAGS)}
    assert "link" not in response.headers


def test_n_limits_and_link_points_at_the_next_page(
    client: testing.TestClient, push: Pusher
) -> None:
    _tag_all(push)
    first = client.simulate_get("/v2/repo/tags/list", params={"n": "2"})
    assert first.json["tags"] == ["a", "b"]
    assert first.headers["link"] == '</v2/repo/tags/list?n=2&last=b>; rel="next"'
    second = client.simulate_get("/v2/repo/tags/list", params={"n": "2", "last": "b"})
    assert second.json["tags"] == ["c", "d"]
    third = client.simulate_get("/v2/repo/tags/list", params={"n": "2", "last": "d"})
    assert third.json["tags"] == ["e"]
    assert "link" not in third.headers


def test_last_alone_lists_what_follows(client: testing.TestClient, push: Pusher) -> None:
    _tag_all(push)
    response = client.simulate_get("/v2/repo/tags/list", params={"last": "c"})
    assert response.json["tags"] == ["d", "e"]


def test_n_zero_gives_an_empty_list(client: testing.TestClient, push: Pusher) -> None:
    _tag_all(push)
    response = client.simulate_get("/v2/repo/tags/list", params={"n": "0"})
    assert response.json["tags"] == []


def test_bad_n_is_refused(client: testing.TestClient, push: Pusher) -> None:
    _tag_all(push)
    response = client.simulate_get("/v2/repo/tags/list", params={"n": "-1"})
    assert response.status_code == 400


def test_tags_of_unknown_repository_is_name_unknown(client: testing.TestClient) -> None:
    response = client.simulate_get("/v2/ghost/tags/list")
    assert response.status_code == 404
    assert response.json["errors"][0]["code"] == "NAME_UNKNOWN"


def test_repository_with_blobs_only_has_empty_tag_list(
    client: testing.TestClient, push: Pusher
) -> None:
    push.blob("repo", b"x")
    assert client.simulate_get("/v2/repo/tags/list").json["tags"] == []


def test_catalog_lists_repositories_with_nested_names(
    client: testing.TestClient, push: Pusher
) -> None:
    for name in ("zeta", "alpha/one", "alpha/two/three", "beta"):
        push.blob(name, b"x")
    response = client.simulate_get("/v2/_catalog")
    assert response.json == {"repositories": ["alpha/one", "alpha/two/three", "beta", "zeta"]}


def test_catalog_paginates_with_link(client: testing.TestClient, push: Pusher) -> None:
    for name in ("a", "b", "c"):
        push.blob(name, b"x")
    first = client.simulate_get("/v2/_catalog", params={"n": "2"})
    assert first.json["repositories"] == ["a", "b"]
    assert first.headers["link"] == '</v2/_catalog?n=2&last=b>; rel="next"'
    second = client.simulate_get("/v2/_catalog", params={"n": "2", "last": "b"})
    assert second.json["repositories"] == ["c"]


def test_base_endpoint_answers_200_json(client: testing.TestClient) -> None:
    response = client.simulate_get("/v2/")
    assert response.status_code == 200
    assert response.json == {}
