"""The proxy variables as docker (Go) and requests users have them set: loopback is never
proxied, NO_PROXY entries by suffix, leading dot, port, network, `*`, in either case; an
https:// proxy is reached over TLS (and HTTPS to a registry runs in TLS inside it)."""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import pytest
from http_test_server import reply, serving
from porter_image.distribution.proxies import environment_proxies
from porter_image.distribution.session import HttpSession
from tls_support import Authority

PROXY = "http://proxy.example:3128"


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's own proxy variables only, not the machine's."""
    for name in [n for n in __import__("os").environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_loopback_registry_is_reached_directly_whatever_the_proxy_variables(
    monkeypatch: pytest.MonkeyPatch, session: HttpSession
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{unused_port()}")
    with serving(lambda h: reply(h, 200, b"direct")) as (url, seen):
        assert session.request("GET", f"{url}/v2/", timeout=5).content == b"direct"
    assert seen.seen[0][1] == "/v2/"


@pytest.mark.parametrize("host", ["localhost:5000", "127.0.0.2", "[::1]:5000"])
def test_loopback_hosts_have_no_proxy(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    assert environment_proxies("https", host) == {}


@pytest.mark.parametrize(
    ("no_proxy", "netloc", "bypassed"),
    [
        ("registry.example:443", "registry.example", True),
        ("registry.example:5000", "registry.example", False),
        ("registry.example:5000", "registry.example:5000", True),
        (".example", "registry.example", True),
        ("EXAMPLE", "Registry.Example", True),
        ("*", "anything.example", True),
        ("other.example, fd00::/8", "[fd00::5]:5000", True),
        ("example", "notexample", False),
    ],
)
def test_no_proxy_entries_are_read_as_go_and_requests_read_them(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str, netloc: str, bypassed: bool
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert (environment_proxies("https", netloc) == {}) is bypassed


def test_lower_case_proxy_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", PROXY)
    monkeypatch.setenv("no_proxy", "direct.example")
    assert environment_proxies("https", "registry.example")["https"] == PROXY
    assert environment_proxies("https", "direct.example") == {}


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority(tmp_path_factory.mktemp("ca"))


def tls_server(authority: Authority, *names: str) -> ssl.SSLContext:
    pair = authority.issue("server", server=True, names=names)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pair.cert, pair.key)
    return context


def pump(client: ssl.SSLSocket, upstream: socket.socket) -> None:
    """Bytes both ways between a tunnel's two ends, on one thread, until either ends."""
    while True:
        ready = [client] if client.pending() else select.select([client, upstream], [], [], 5)[0]
        if not ready:
            return
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            (upstream if sock is client else client).sendall(data)


def tunnel_to(port: int) -> Callable[[BaseHTTPRequestHandler], None]:
    """A proxy's answer to CONNECT: a tunnel to 127.0.0.1:`port`, whatever host was asked."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        with socket.create_connection(("127.0.0.1", port)) as upstream:
            handler.send_response(200)
            handler.end_headers()
            handler.wfile.flush()
            pump(handler.connection, upstream)  # type: ignore[arg-type]
        handler.close_connection = True

    return answer


def test_https_goes_through_a_tunnel_of_an_https_proxy(
    monkeypatch: pytest.MonkeyPatch, authority: Authority
) -> None:
    registry_tls = tls_server(authority, "registry.example")
    with serving(lambda h: reply(h, 200, b"tunnelled"), registry_tls) as (registry, seen):
        port = int(registry.rsplit(":", 1)[1])
        proxy_tls = tls_server(authority)
        with serving(tunnel_to(port), proxy_tls) as (proxy, proxy_seen):
            monkeypatch.setenv("HTTPS_PROXY", proxy.replace("https://", "https://user:pw@"))
            with HttpSession(verify=str(authority.pair.cert)) as session:
                for _ in range(2):
                    response = session.request("GET", "https://registry.example/v2/", timeout=5)
                    assert response.content == b"tunnelled"
    method, target, headers, _ = proxy_seen.seen[0]
    assert (method, target, len(proxy_seen.seen)) == ("CONNECT", "registry.example:443", 1)
    assert headers["proxy-authorization"] == "Basic dXNlcjpwdw=="
    assert [(s[1], s[2]["host"]) for s in seen.seen] == [("/v2/", "registry.example")] * 2


def test_plain_http_goes_through_an_https_proxy(
    monkeypatch: pytest.MonkeyPatch, authority: Authority
) -> None:
    with serving(lambda h: reply(h, 200, b"forwarded"), tls_server(authority)) as (proxy, seen):
        monkeypatch.setenv("HTTP_PROXY", proxy)
        with HttpSession(verify=str(authority.pair.cert)) as session:
            response = session.request("GET", "http://registry.example:5000/v2/", timeout=5)
            assert response.content == b"forwarded"
    assert seen.seen[0][1] == "http://registry.example:5000/v2/"


def test_an_https_proxy_is_verified_as_registries_are(
    monkeypatch: pytest.MonkeyPatch, authority: Authority, session: HttpSession
) -> None:
    with serving(lambda h: reply(h, 200), tls_server(authority)) as (proxy, seen):
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        with pytest.raises(ssl.SSLCertVerificationError):
            session.request("GET", "https://registry.example/v2/", timeout=5)
    assert seen.seen == []
