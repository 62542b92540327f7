"""A registry's credentials go to that registry only: not to the hosts it names in a Link,
an upload's Location or a redirect, nor to a token endpoint another host's 401 names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from http_test_server import Recorder, reply, serving
from porter_image.distribution.auth import Credentials
from porter_image.distribution.client import RegistryClient, RegistryOptions
from porter_image.distribution.repository import Repository

pytestmark = pytest.mark.usefixtures("no_stored_credentials")
BASIC = "Basic dXNlcjpzZWNyZXQ="  # user:secret


def registry_with(answer: object) -> object:
    """A registry wanting Basic auth, answering authorized requests with `answer`."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("Authorization") != BASIC:
            reply(handler, 401, WWW_Authenticate='Basic realm="registry"')
        elif handler.path == "/v2/":
            reply(handler, 200)
        else:
            answer(handler)  # type: ignore[operator]

    return respond


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, Recorder]]:
    """Another host (localhost, where the registry is 127.0.0.1) answering anything."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        if handler.path.startswith("/v2/a/tags"):
            reply(handler, 200, json.dumps({"tags": ["there"]}).encode())
        elif handler.path.startswith("/token"):
            reply(handler, 200, b'{"token": "t"}')
        else:
            url = f"http://{handler.headers['Host']}/token"
            reply(handler, 401, WWW_Authenticate=f'Bearer realm="{url}"')

    with serving(answer) as (url, seen):
        yield url.replace("127.0.0.1", "localhost"), seen


def client_of(url: str) -> RegistryClient:
    options = RegistryOptions(credentials=Credentials("user", "secret"), retries=0)
    return RegistryClient(url.removeprefix("http://"), options)


def test_a_link_to_another_host_is_followed_without_the_credentials(
    elsewhere: tuple[str, Recorder],
) -> None:
    other, other_seen = elsewhere

    def tags(handler: BaseHTTPRequestHandler) -> None:
        link = f'<{other}/v2/a/tags/list?last=here>; rel="next"'
        reply(handler, 200, json.dumps({"tags": ["here"]}).encode(), Link=link)

    with serving(registry_with(tags)) as (url, _), client_of(url) as client:
        assert Repository(client, "a").tags() == ["here", "there"]
    assert "authorization" not in other_seen.seen[0][2]


def test_an_upload_location_on_another_host_gets_no_credentials(
    elsewhere: tuple[str, Recorder],
) -> None:
    other, other_seen = elsewhere

    def uploads(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 202, Location=f"{other}/uploads/1")

    with serving(registry_with(uploads)) as (url, _), client_of(url) as client:
        location = Repository(client, "a").start_upload()
        client.request("PUT", location, (), body=b"blob").close()
    assert [s[1] for s in other_seen.seen] == ["/uploads/1"]
    assert "authorization" not in other_seen.seen[0][2]


def test_a_401_of_the_host_a_redirect_led_to_sends_no_credentials_to_its_realm(
    elsewhere: tuple[str, Recorder],
) -> None:
    other, other_seen = elsewhere

    def blobs(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 307, Location=f"{other}/storage/blob")

    with serving(registry_with(blobs)) as (url, _), client_of(url) as client:
        response = client.request("GET", "/v2/a/blobs/sha256:00", ())
        assert response.status_code == 401
    assert [s[1] for s in other_seen.seen] == ["/storage/blob"]
