"""porterd's HTTP/1.1 server over real sockets: keep-alive, chunked streams, HEAD, the
hijack, the unix socket's mode, and mutual TLS on TCP."""

from __future__ import annotations

import socket
import ssl
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from porterd.server import ListenerError, TLSFiles, listen

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.append(str(Path(__file__).resolve().parents[3] / "porter-image" / "tests"))
from tls_support import Authority

RELEASE = threading.Event()


def app(environ: dict[str, Any], start_response: Any) -> Any:
    """A WSGI app with one behaviour per path."""
    path = environ["PATH_INFO"]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "application/json")])
        return _stream()
    if path == "/echo":
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    if path == "/write":
        write = start_response("200 OK", [("Content-Length", "11")])
        write(b"hello ")
        return [b"world"]
    if path == "/hijack":
        sock = environ["porterd.hijack"]()
        with sock:
            sock.sendall(b"hello " + sock.recv(100))
        return []
    if path == "/hijack-timeout":
        with environ["porterd.hijack"]() as sock:
            sock.sendall(repr(sock.gettimeout()).encode())
        return []
    reply = f"{environ['REQUEST_METHOD']} {path}".encode()
    start_response("200 OK", [("Content-Length", str(len(reply)))])
    return [reply]


def _stream() -> Iterator[bytes]:
    yield b'{"first": 1}\n'
    RELEASE.wait(10)  # the client reads the first chunk before the second is made
    yield b'{"second": 2}\n'


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "run" / "porterd.sock"
    listener = listen(f"unix://{path}", app)
    listener.start()
    yield path
    RELEASE.set()
    listener.stop()
    RELEASE.clear()


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(10)
    sock.connect(str(path))
    return sock


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _read_exactly(sock: socket.socket, rest: bytes, size: int) -> bytes:
    while len(rest) < size:
        rest += sock.recv(4096)
    return rest


def _exchange(path: Path, request: bytes, size: int) -> tuple[bytes, bytes]:
    """Send one request on a new connection; the response head and `size` bytes after it."""
    with _connect(path) as sock:
        sock.sendall(request)
        head, rest = _read_head(sock)
        return head, _read_exactly(sock, rest, size)


def test_the_unix_socket_is_mode_0660(unix_socket: Path) -> None:
    assert stat.S_IMODE(unix_socket.stat().st_mode) == 0o660


def test_two_requests_share_one_keep_alive_connection(unix_socket: Path) -> None:
    with _connect(unix_socket) as sock:
        for path in ("/one", "/two"):
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head, rest = _read_head(sock)
            assert head.startswith(b"HTTP/1.1 200")
            expected = f"GET {path}".encode()
            assert _read_exactly(sock, rest, len(expected)) == expected


def test_a_response_of_unknown_length_is_chunked_and_flushed_per_chunk(
    unix_socket: Path,
) -> None:
    with _connect(unix_socket) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        head, rest = _read_head(sock)
        assert b"Transfer-Encoding: chunked" in head
        first = b'{"first": 1}\n'
        chunk = b"%x\r\n%s\r\n" % (len(first), first)
        assert _read_exactly(sock, rest, len(chunk)) == chunk  # before the second is made
        RELEASE.set()
        second = b'{"second": 2}\n'
        ending = b"%x\r\n%s\r\n0\r\n\r\n" % (len(second), second)
        assert _read_exactly(sock, b"", len(ending)) == ending


def test_the_wsgi_write_callable_sends_ahead_of_the_iterable(unix_socket: Path) -> None:
    _, body = _exchange(unix_socket, b"GET /write HTTP/1.1\r\nHost: x\r\n\r\n", 11)
    assert body == b"hello world"


def test_a_chunked_request_body_reaches_the_app_whole(unix_socket: Path) -> None:
    request = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    head, body = _exchange(unix_socket, request, 11)
    assert b"Content-Length: 11" in head
    assert body == b"hello world"


def test_a_malformed_content_length_is_a_400_message(unix_socket: Path) -> None:
    request = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"
    head, body = _exchange(unix_socket, request, 20)
    assert head.startswith(b"HTTP/1.1 400")
    assert b"malformed Content-Length" in body


def test_head_gets_headers_and_no_body(unix_socket: Path) -> None:
    with _connect(unix_socket) as sock:
        sock.sendall(b"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        head, rest = _read_head(sock)
        assert b"Content-Length: 7" in head  # what GET /x would send
        # The next response follows directly: the HEAD one carried no body.
        assert _read_exactly(sock, rest, 12).startswith(b"HTTP/1.1 200")


def test_hijack_with_upgrade_answers_101_and_hands_over_the_socket(unix_socket: Path) -> None:
    with _connect(unix_socket) as sock:
        sock.sendall(
            b"POST /hijack HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
            b"Content-Length: 0\r\n\r\n"
        )
        head, rest = _read_head(sock)
        assert head.startswith(b"HTTP/1.1 101 UPGRADED")
        assert b"Content-Type: application/vnd.docker.raw-stream" in head
        assert b"Upgrade: tcp" in head
        sock.sendall(b"stdin")
        assert _read_exactly(sock, rest, 11) == b"hello stdin"
        assert sock.recv(10) == b""  # the responder closed it; the server sent nothing more


def test_a_hijacked_socket_has_no_timeout(unix_socket: Path) -> None:
    """The keep-alive timeout must not cut an attached terminal that is idle."""
    request = b"POST /hijack-timeout HTTP/1.1\r\nHost: x\r\nUpgrade: tcp\r\n\r\n"
    assert _exchange(unix_socket, request, 4)[1] == b"None"


def test_hijack_without_upgrade_answers_200_raw_stream(unix_socket: Path) -> None:
    request = b"POST /hijack HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    with _connect(unix_socket) as sock:
        sock.sendall(request)
        head, _ = _read_head(sock)
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert b"application/vnd.docker.raw-stream" in head


def test_a_stale_socket_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    listener = listen(f"unix://{path}", app)
    listener.start()
    listener.stop()
    assert not path.exists()  # and removed again on stop


def test_a_regular_file_at_the_socket_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sock").write_text("keep me")
    with pytest.raises(ListenerError, match="is not a socket"):
        listen(f"unix://{tmp_path / 'sock'}", app)


@pytest.mark.parametrize("address", ["unix://run/porterd.sock", "unix://"])
def test_a_unix_address_without_an_absolute_path_is_refused(address: str) -> None:
    with pytest.raises(ListenerError, match="a unix socket needs an absolute path"):
        listen(address, app)


def test_tcp_without_tls_is_refused() -> None:
    with pytest.raises(ListenerError, match="without --tlsverify"):
        listen("tcp://127.0.0.1:0", app)


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(ListenerError, match="expected unix:///PATH or tcp://HOST:PORT"):
        listen("fd://3", app)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_port(authority: Authority) -> Iterator[int]:
    server = authority.issue("server", server=True)
    listener = listen(
        "tcp://127.0.0.1:0", app, tls=TLSFiles(authority.pair.cert, server.cert, server.key)
    )
    listener.start()
    yield listener.server.server_address[1]
    listener.stop()


def _tls_client(authority: Authority, cert: Any = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(authority.pair.cert))
    if cert is not None:
        context.load_cert_chain(cert.cert, cert.key)
    return context


def _tls_ping(context: ssl.SSLContext, port: int) -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as sock,
    ):
        # TLS 1.3 reports a refused client certificate on the first read, not in the handshake.
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        return _read_head(sock)[0]


def test_tls_serves_a_client_with_a_certificate_of_the_ca(
    authority: Authority, tls_port: int
) -> None:
    context = _tls_client(authority, authority.issue("client", server=False))
    assert _tls_ping(context, tls_port).startswith(b"HTTP/1.1 200")


def test_tls_refuses_a_client_without_a_certificate(authority: Authority, tls_port: int) -> None:
    with pytest.raises((ssl.SSLError, ConnectionError, AssertionError)):
        _tls_ping(_tls_client(authority), tls_port)


def test_tls_refuses_a_certificate_of_another_ca(
    authority: Authority, tls_port: int, tmp_path: Path
) -> None:
    stranger = Authority(tmp_path / "other", name="another CA").issue("client", server=False)
    with pytest.raises((ssl.SSLError, ConnectionError, AssertionError)):
        _tls_ping(_tls_client(authority, stranger), tls_port)


def test_many_clients_connecting_at_once_are_queued_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "busy.sock"
    listener = listen(f"unix://{path}", app)  # bound and listening, but accepting nothing yet
    clients = []
    try:
        for _ in range(64):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            clients.append(client)
            client.setblocking(False)
            client.connect(str(path))  # BlockingIOError once the backlog is full
    finally:
        for client in clients:
            client.close()
        listener.server.server_close()
