"""The pull-through cache's upstream client against a small scripted HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from porter_registry.config import ConfigError, ProxyConfig
from porter_registry.errors import RegistryError
from porter_registry.from_config import build_upstream
from porter_registry.proxy import UpstreamRegistry, parse_challenge
from porter_registry.upstream import NoUpstream
from porter_specs.digest import Digest
from porter_specs.errors import DigestMismatchError
from push_support import digest_of


class Script(BaseHTTPRequestHandler):
    """Answers from the server's `routes`: path -> (status, headers, body)."""

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        status, headers, body = self.server.routes(self)  # type: ignore[attr-defined]
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Script)
    httpd.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_challenges_are_parsed_with_quoted_commas() -> None:
    header = 'Bearer realm="https://a/token",service="reg",scope="repository:x:pull,push"'
    assert parse_challenge(header) == (
        "bearer",
        {"realm": "https://a/token", "service": "reg", "scope": "repository:x:pull,push"},
    )


def test_a_blob_that_does_not_hash_to_its_digest_is_refused(server) -> None:
    server.routes = lambda request: (200, {}, b"not what was asked for")
    chunks = UpstreamRegistry(url(server)).fetch_blob("app", Digest.parse(digest_of(b"wanted")))
    assert chunks is not None
    with pytest.raises(DigestMismatchError):
        b"".join(chunks)


def test_a_bearer_challenge_is_answered_with_a_token_reused_for_the_scope(server) -> None:
    def routes(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        if request.path.startswith("/token"):
            return 200, {}, b'{"token": "t0k", "expires_in": 300}'
        if request.headers.get("Authorization") == "Bearer t0k":
            return 200, {}, b"blob"
        realm = f'Bearer realm="{url(server)}/token",service="up"'
        return 401, {"WWW-Authenticate": realm}, b""

    server.routes = routes
    upstream = UpstreamRegistry(url(server), "user", "pass")
    for _ in range(2):
        assert b"".join(upstream.fetch_blob("app", Digest.parse(digest_of(b"blob")))) == b"blob"
    token_requests = [path for path, auth in server.seen if path.startswith("/token")]
    assert len(token_requests) == 1
    assert "scope=repository%3Aapp%3Apull" in token_requests[0]
    assert "service=up" in token_requests[0]


def test_a_tag_digest_comes_from_a_head_of_the_manifest(server) -> None:
    digest = digest_of(b"manifest")
    server.routes = lambda request: (200, {"Docker-Content-Digest": digest}, b"manifest")
    assert UpstreamRegistry(url(server)).tag_digest("app", "v1") == Digest.parse(digest)
    assert [path for path, _ in server.seen] == ["/v2/app/manifests/v1"]


def test_a_tag_digest_is_computed_when_the_upstream_head_names_none(server) -> None:
    server.routes = lambda request: (200, {}, b"manifest")
    assert UpstreamRegistry(url(server)).tag_digest("app", "v1") == Digest.parse(
        digest_of(b"manifest")
    )


def test_a_blob_size_comes_from_a_head_of_the_blob(server) -> None:
    server.routes = lambda request: (200, {}, b"x" * 1234)
    size = UpstreamRegistry(url(server)).blob_size("app", Digest.parse(digest_of(b"x" * 1234)))
    assert size == 1234


def test_an_unreachable_upstream_knows_no_tag_and_no_blob() -> None:
    upstream = UpstreamRegistry("http://127.0.0.1:9")
    assert upstream.tag_digest("app", "v1") is None
    assert upstream.blob_size("app", Digest.parse(digest_of(b"x"))) is None


def test_an_upstream_refusing_the_credentials_is_denied(server) -> None:
    server.routes = lambda request: (401, {"WWW-Authenticate": 'Basic realm="up"'}, b"")
    with pytest.raises(RegistryError) as refused:
        UpstreamRegistry(url(server), "user", "wrong").fetch_manifest("app", "v1")
    assert refused.value.error_code.code == "DENIED"


def test_an_upstream_error_is_a_miss(server) -> None:
    server.routes = lambda request: (503, {}, b"")
    assert UpstreamRegistry(url(server)).fetch_manifest("app", "v1") is None


def test_an_unreachable_upstream_is_a_miss() -> None:
    assert UpstreamRegistry("http://127.0.0.1:9").fetch_manifest("app", "v1") is None


def test_without_a_url_there_is_no_upstream() -> None:
    assert isinstance(build_upstream(ProxyConfig()), NoUpstream)


@pytest.mark.parametrize("bad", ["registry.example", "ftp://registry.example", "http://"])
def test_a_proxy_url_that_is_not_http_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"proxy\.url .*: expected http\(s\)://HOST\[:PORT\]"):
        build_upstream(ProxyConfig(url=bad))
