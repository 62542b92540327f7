"""Redirects as a hostile registry sends them: credentials stay with their host, methods and
bodies follow Go's net/http (docker's, skopeo's), and a redirect nowhere is refused."""

from __future__ import annotations

import http.client
import io
from http.server import BaseHTTPRequestHandler

import pytest
from http_test_server import reply, serving
from porter_image.distribution.session import (
    HttpSession,
    UnsupportedRedirectError,
    _strips_auth,
)


def redirect_once(status: int, location: str = "/moved") -> object:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        if handler.path == "/moved":
            reply(handler, 201)
        else:
            reply(handler, status, Location=location)

    return answer


@pytest.mark.parametrize("status", [307, 308])
def test_a_307_or_308_keeps_the_method_and_the_body(session: HttpSession, status: int) -> None:
    with serving(redirect_once(status)) as (url, seen):
        session.request("PUT", f"{url}/upload", body=b"layer bytes")
    assert [(s[0], s[1]) for s in seen.seen] == [("PUT", "/upload"), ("PUT", "/moved")]
    assert seen.bodies == [b"layer bytes", b"layer bytes"]


def test_a_307_sends_a_streamed_body_again_from_its_start(session: HttpSession) -> None:
    opened: list[int] = []

    def open_body() -> io.BytesIO:
        opened.append(1)
        return io.BytesIO(b"streamed")

    with serving(redirect_once(307)) as (url, seen):
        session.request("PUT", f"{url}/upload", headers={"Content-Length": "8"}, body=open_body)
    assert seen.bodies == [b"streamed", b"streamed"]
    assert len(opened) == 2


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_put_redirected_by_301_302_or_303_becomes_a_get_without_a_body(
    session: HttpSession, status: int
) -> None:
    with serving(redirect_once(status)) as (url, seen):
        session.request("PUT", f"{url}/upload", body=b"layer bytes")
    assert [(s[0], s[1]) for s in seen.seen] == [("PUT", "/upload"), ("GET", "/moved")]
    assert seen.bodies[1] == b""
    assert "content-length" not in seen.seen[1][2]


def test_a_head_redirected_by_a_302_stays_a_head(session: HttpSession) -> None:
    with serving(redirect_once(302)) as (url, seen):
        session.request("HEAD", f"{url}/blob")
    assert [s[0] for s in seen.seen] == ["HEAD", "HEAD"]


def test_a_relative_location_is_read_against_the_request_url(session: HttpSession) -> None:
    with serving(redirect_once(307, "../moved")) as (url, seen):
        session.request("GET", f"{url}/v2/blob")
    assert [s[1] for s in seen.seen] == ["/v2/blob", "/moved"]


def test_credentials_of_any_spelling_are_not_sent_to_another_host(session: HttpSession) -> None:
    credentials = {"authorization": "Bearer t", "Cookie": "s=1", "Proxy-Authorization": "p"}
    with serving(lambda h: reply(h, 200)) as (other, other_seen):
        target = other.replace("127.0.0.1", "localhost")
        with serving(lambda h: reply(h, 302, Location=f"{target}/b")) as (url, seen):
            session.request("GET", f"{url}/a", headers=credentials)
    assert {"authorization", "cookie", "proxy-authorization"} <= set(seen.seen[0][2])
    assert not {"authorization", "cookie", "proxy-authorization"} & set(other_seen.seen[0][2])


def test_a_redirect_to_another_port_of_the_host_drops_the_authorization(
    session: HttpSession,
) -> None:
    with serving(lambda h: reply(h, 200)) as (other, other_seen):
        redirecting = serving(lambda h: reply(h, 307, Location=f"{other}/b"))
        with redirecting as (url, _):
            session.request("GET", f"{url}/a", headers={"Authorization": "Basic eDp5"})
    assert "authorization" not in other_seen.seen[0][2]


@pytest.mark.parametrize(
    ("target", "strips"),
    [
        ("https://registry.test/b", False),
        ("https://registry.test:443/b", False),
        ("https://registry.test:8443/b", True),
        ("https://other.test/b", True),
    ],
)
def test_an_upgrade_to_https_on_the_default_ports_alone_keeps_the_credentials(
    target: str, strips: bool
) -> None:
    assert _strips_auth("http://registry.test/a", target) is strips


def test_a_downgrade_to_http_drops_the_credentials() -> None:
    assert _strips_auth("https://registry.test/a", "http://registry.test/b") is True


def test_a_redirect_to_a_url_that_is_not_http_is_refused(session: HttpSession) -> None:
    refused = pytest.raises(UnsupportedRedirectError, match="not http")
    with serving(lambda h: reply(h, 302, Location="file:///etc/passwd")) as (url, seen), refused:
        session.request("GET", f"{url}/a")
    assert len(seen.seen) == 1


def test_a_redirect_to_a_port_that_is_not_a_number_is_refused(session: HttpSession) -> None:
    refused = pytest.raises(http.client.InvalidURL, match="not a port number")
    with serving(lambda h: reply(h, 302, Location="http://127.0.0.1:abc/x")) as (url, _), refused:
        session.request("GET", f"{url}/a", headers={"Authorization": "Basic eDp5"})


def test_a_location_with_spaces_and_non_ascii_characters_is_sent_encoded(
    session: HttpSession,
) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        if handler.path == "/a":
            reply(handler, 302, Location="/blobs/caf\u00e9 1?x=%2F")
        else:
            reply(handler, 200)

    with serving(answer) as (url, seen):
        session.request("GET", f"{url}/a")
    assert seen.seen[1][1] == "/blobs/caf%C3%A9%201?x=%2F"
