"""TLS as the session makes it: certificates and host names checked by default, a CA
bundle and a client certificate when given, SNI sent, verification off only when asked and
only for the host it was asked for, a client certificate shown to its own host only."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from http_test_server import reply, serving
from porter_image.distribution.session import HttpSession, TlsChoice
from tls_support import Authority, Pair


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority(tmp_path_factory.mktemp("ca"))


def server_context(pair: Pair, client_ca: Path | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pair.cert, pair.key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    return context


@pytest.fixture
def tls_server(authority: Authority) -> Iterator[str]:
    context = server_context(authority.issue("registry", server=True))
    with serving(lambda h: reply(h, 200, b"secure"), context) as (url, _):
        yield url


def test_a_certificate_of_an_unknown_authority_is_refused_by_default(
    tls_server: str, session: HttpSession
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        session.request("GET", f"{tls_server}/v2/", timeout=5)


def test_a_certificate_of_the_given_authority_is_accepted(
    tls_server: str, authority: Authority
) -> None:
    with HttpSession(verify=str(authority.pair.cert)) as session:
        assert session.request("GET", f"{tls_server}/v2/", timeout=5).content == b"secure"


def test_a_certificate_for_another_name_is_refused(authority: Authority) -> None:
    pair = authority.issue("elsewhere", server=True, names=("elsewhere.example",), loopback=False)
    serving_elsewhere = serving(lambda h: reply(h, 200), server_context(pair))
    refused = pytest.raises(ssl.SSLCertVerificationError, match="mismatch")
    session = HttpSession(verify=str(authority.pair.cert))
    with serving_elsewhere as (url, seen), session, refused:
        session.request("GET", f"{url}/v2/", timeout=5)
    assert seen.seen == []


def test_verification_off_accepts_any_certificate(tls_server: str) -> None:
    with HttpSession(verify=False) as session:
        assert session.request("GET", f"{tls_server}/v2/", timeout=5).content == b"secure"


def test_the_client_certificate_is_presented_to_a_registry_that_asks(
    authority: Authority,
) -> None:
    client = authority.issue("client", server=False)
    context = server_context(authority.issue("registry", server=True), authority.pair.cert)
    with serving(lambda h: reply(h, 200, b"known"), context) as (url, _):
        verify = str(authority.pair.cert)
        with HttpSession(verify=verify, cert=(str(client.cert), str(client.key))) as session:
            assert session.request("GET", f"{url}/v2/", timeout=5).content == b"known"
        with HttpSession(verify=verify) as session, pytest.raises(OSError):
            session.request("GET", f"{url}/v2/", timeout=5)


def test_the_host_name_is_sent_as_sni(authority: Authority) -> None:
    names: list[str | None] = []
    context = server_context(authority.issue("registry", server=True))
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment, misc]
    session = HttpSession(verify=str(authority.pair.cert))
    with serving(lambda h: reply(h, 200), context) as (url, _), session:
        session.request("GET", f"{url.replace('127.0.0.1', 'localhost')}/v2/", timeout=5)
    assert names == ["localhost"]


def only_for(
    url: str, verify: bool | str, cert: tuple[str, str] | None = None, others: bool | str = True
) -> TlsChoice:
    """TLS settings given for the host of `url` alone; any other host is verified (with
    `others`), without a client certificate."""
    own = url.removeprefix("https://")
    return lambda host: (verify, cert) if host == own else (others, None)


def test_verification_off_for_a_host_does_not_reach_the_host_it_redirects_to(
    authority: Authority,
) -> None:
    context = server_context(authority.issue("registry", server=True))
    with serving(lambda h: reply(h, 200, b"unchecked"), context) as (other, seen):
        target = other.replace("127.0.0.1", "localhost")
        redirecting = serving(lambda h: reply(h, 307, Location=f"{target}/blob"), context)
        refused = pytest.raises(ssl.SSLCertVerificationError)
        with redirecting as (url, _), HttpSession(tls_for=only_for(url, False)) as session, refused:
            session.request("GET", f"{url}/blob", timeout=5)
    assert seen.seen == []


def test_a_client_certificate_is_not_shown_to_the_host_a_redirect_leads_to(
    authority: Authority,
) -> None:
    client = authority.issue("client", server=False)
    peers: list[object] = []

    def record_peer(handler: BaseHTTPRequestHandler) -> None:
        peers.append(handler.request.getpeercert())  # type: ignore[attr-defined]
        reply(handler, 200)

    context = server_context(authority.issue("registry", server=True), authority.pair.cert)
    asking = server_context(authority.issue("storage", server=True), authority.pair.cert)
    asking.verify_mode = ssl.CERT_OPTIONAL
    with serving(record_peer, asking) as (other, _):
        target = other.replace("127.0.0.1", "localhost")
        redirecting = serving(lambda h: reply(h, 307, Location=f"{target}/blob"), context)
        with redirecting as (url, seen):
            ca, pair = str(authority.pair.cert), (str(client.cert), str(client.key))
            with HttpSession(tls_for=only_for(url, ca, pair, others=ca)) as session:
                assert session.request("GET", f"{url}/blob", timeout=5).status_code == 200
    assert len(seen.seen) == 1
    assert peers in ([None], [{}])


def test_a_tls_handshake_that_stalls_times_out(session: HttpSession) -> None:
    with socket.socket() as listener:  # connections wait in its backlog, never answered
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(TimeoutError):
            session.request("GET", f"https://127.0.0.1:{port}/v2/", timeout=0.2)


def test_https_connections_are_kept_alive(authority: Authority) -> None:
    context = server_context(authority.issue("registry", server=True))
    session = HttpSession(verify=str(authority.pair.cert))
    with serving(lambda h: reply(h, 200), context) as (url, seen), session:
        for _ in range(3):
            session.request("GET", f"{url}/v2/", timeout=5)
    assert len({s[3] for s in seen.seen}) == 1
