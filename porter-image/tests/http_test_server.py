"""A tiny HTTP/1.1 server on loopback for the registry session's tests: each request is
recorded and answered by a function the test gives; TLS when given a server context."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[BaseHTTPRequestHandler], None]


class Recorder:
    """What a test server saw: each request's method, target, headers, client port, body."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], int]] = []
        self.bodies: list[bytes] = []

    def record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        self.seen.append((handler.command, handler.path, headers, handler.client_address[1]))
        self.bodies.append(body)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up early (as a test asks it to) is no error to print


@contextmanager
def serving(answer: Answer, tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, Recorder]]:
    """A server on 127.0.0.1 answering every request with `answer`; yields its base URL."""
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            recorder.record(self, self.rfile.read(length) if length else b"")
            answer(self)

        do_GET = do_HEAD = do_POST = do_PUT = do_CONNECT = do_DELETE = handle_one

        def log_message(self, *args: object) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    with running(server, "https" if tls is not None else "http") as url:
        yield url, recorder


@contextmanager
def running(server: ThreadingHTTPServer, scheme: str = "http") -> Iterator[str]:
    """`server` (bound to 127.0.0.1) answering from a thread until the block ends; yields its
    base URL."""
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    """Answer with `status`, `headers` (Content_Length spells Content-Length) and `body`."""
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    if "Content_Length" not in headers:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
