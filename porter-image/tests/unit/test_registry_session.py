"""The registry client's HTTP session: redirects, short bodies, kept-alive connections, proxies."""

from __future__ import annotations

import io
import socket
from http.server import BaseHTTPRequestHandler

import pytest
from http_test_server import reply, serving
from porter_image.distribution.proxies import environment_proxies
from porter_image.distribution.response import IncompleteBodyError, parse_links
from porter_image.distribution.session import (
    HttpSession,
    TooManyRedirectsError,
)


def test_a_redirect_to_another_host_drops_the_authorization_header(session: HttpSession) -> None:
    with serving(lambda h: reply(h, 200, b"there")) as (other, other_seen):
        target = other.replace("127.0.0.1", "localhost")
        with serving(lambda h: reply(h, 307, Location=f"{target}/blob")) as (url, seen):
            response = session.request("GET", f"{url}/blob", headers={"Authorization": "x"})
    assert response.content == b"there"
    assert seen.seen[0][2]["authorization"] == "x"
    assert "authorization" not in other_seen.seen[0][2]


def test_a_redirect_within_the_host_keeps_the_authorization_header(session: HttpSession) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        if handler.path == "/a":
            reply(handler, 302, Location="/b")
        else:
            reply(handler, 200, b"b")

    with serving(answer) as (url, seen):
        session.request("GET", f"{url}/a", headers={"Authorization": "x"})
    assert [(s[1], s[2].get("authorization")) for s in seen.seen] == [("/a", "x"), ("/b", "x")]


def test_a_303_after_a_post_is_followed_by_a_get_without_a_body(session: HttpSession) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        if handler.command == "POST":
            reply(handler, 303, Location="/done")
        else:
            reply(handler, 200)

    with serving(answer) as (url, seen):
        session.request("POST", f"{url}/form", body=b"a=1")
    assert [(s[0], s[1]) for s in seen.seen] == [("POST", "/form"), ("GET", "/done")]
    assert "content-length" not in seen.seen[1][2]


def test_a_redirect_loop_ends_in_an_error(session: HttpSession) -> None:
    loop = serving(lambda h: reply(h, 302, Location=h.path))
    with loop as (url, seen), pytest.raises(TooManyRedirectsError):
        session.max_redirects = 3
        session.request("GET", f"{url}/loop")
    assert len(seen.seen) == 4


def test_a_body_shorter_than_its_content_length_is_an_error(session: HttpSession) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 200, b"only this", Content_Length="100")
        handler.close_connection = True

    with serving(answer) as (url, _):
        response = session.request("GET", f"{url}/blob", stream=True)
        assert response.read(9) == b"only this"
        with pytest.raises(IncompleteBodyError):
            response.read(100)


def test_a_body_read_whole_short_of_its_content_length_is_an_error(session: HttpSession) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 200, b"only this", Content_Length="100")
        handler.close_connection = True

    with serving(answer) as (url, _), pytest.raises(IncompleteBodyError):
        session.request("GET", f"{url}/blob")


def test_requests_one_after_another_share_one_kept_alive_connection(session: HttpSession) -> None:
    with serving(lambda h: reply(h, 200, b"ok")) as (url, seen):
        for _ in range(3):
            assert session.request("GET", f"{url}/x").content == b"ok"
        session.request("HEAD", f"{url}/x")
    assert len({s[3] for s in seen.seen}) == 1


def test_a_streamed_body_left_unread_does_not_give_its_connection_back(
    session: HttpSession,
) -> None:
    with serving(lambda h: reply(h, 200, b"x" * 100000)) as (url, seen):
        session.request("GET", f"{url}/big", stream=True).close()
        assert session.request("GET", f"{url}/small").status_code == 200
    assert len({s[3] for s in seen.seen}) == 2


def test_a_connection_the_server_closed_is_replaced_by_a_new_one(session: HttpSession) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 200, b"ok")
        handler.close_connection = True  # without saying so (no Connection: close)

    with serving(answer) as (url, seen):
        assert session.request("GET", f"{url}/a").content == b"ok"
        assert session.request("GET", f"{url}/b").content == b"ok"
    assert len({s[3] for s in seen.seen}) == 2


def hang_up_on_second_request(handler: BaseHTTPRequestHandler) -> None:
    """Answer the first request of each connection; close it on the second, unanswered, as
    a server does that drops a kept-alive connection just as the client uses it again."""
    count = getattr(handler, "answered", 0)
    handler.answered = count + 1  # type: ignore[attr-defined]
    if count == 0:
        reply(handler, 200, b"ok")
    else:
        handler.close_connection = True


def test_a_request_the_server_hung_up_on_is_sent_again_on_a_new_connection(
    session: HttpSession,
) -> None:
    with serving(hang_up_on_second_request) as (url, seen):
        session.request("GET", f"{url}/a")
        assert session.request("GET", f"{url}/b").content == b"ok"
    assert [s[1] for s in seen.seen] == ["/a", "/b", "/b"]


def test_a_streamed_body_is_not_sent_again_after_a_hang_up(session: HttpSession) -> None:
    with serving(hang_up_on_second_request) as (url, seen):
        session.request("GET", f"{url}/a")
        with pytest.raises(ConnectionError):
            session.request("PUT", f"{url}/b", body=lambda: io.BytesIO(b"blob"))
    assert [s[1] for s in seen.seen] == ["/a", "/b"]


def test_plain_http_goes_through_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch,
    session: HttpSession,
) -> None:
    with serving(lambda h: reply(h, 200, b"proxied")) as (proxy, seen):
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        response = session.request("GET", "http://registry.example:5000/v2/")
    assert response.content == b"proxied"
    assert seen.seen[0][1] == "http://registry.example:5000/v2/"
    assert seen.seen[0][2]["host"] == "registry.example:5000"


def test_https_goes_through_a_connect_tunnel_of_the_proxy(
    monkeypatch: pytest.MonkeyPatch,
    session: HttpSession,
) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 403)  # the tunnel is refused: nothing is sent to the registry directly

    with serving(answer) as (proxy, seen):
        monkeypatch.setenv("HTTPS_PROXY", proxy.replace("http://", "http://user:pw@"))
        with pytest.raises(OSError, match="Tunnel connection failed: 403"):
            session.request("GET", "https://registry.example/v2/", timeout=5)
    method, target, headers, _ = seen.seen[0]
    assert (method, target) == ("CONNECT", "registry.example:443")
    assert headers["proxy-authorization"] == "Basic dXNlcjpwdw=="


def test_no_proxy_names_hosts_by_suffix_and_addresses_by_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example,10.0.0.0/8")
    assert environment_proxies("https", "registry.internal.example") == {}
    assert environment_proxies("https", "10.1.2.3:5000") == {}
    assert environment_proxies("https", "11.1.2.3")["https"] == "http://proxy.example:3128"


def test_without_proxy_variables_no_proxy_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in __import__("os").environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    assert environment_proxies("https", "registry.example") == {}


def test_a_link_header_gives_its_entries_by_rel() -> None:
    links = parse_links('</v2/a/tags/list?n=2&last=b>; rel="next", <https://x/p>; rel=prev')
    assert links["next"]["url"] == "/v2/a/tags/list?n=2&last=b"
    assert links["prev"]["url"] == "https://x/p"


def test_a_refused_connection_is_an_os_error(session: HttpSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        session.request("GET", f"http://127.0.0.1:{port}/v2/", timeout=5)
