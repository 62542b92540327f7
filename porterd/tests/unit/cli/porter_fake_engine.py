"""A small in-process fake of the Engine API for porter's unit tests: a threaded HTTP/1.1
server on a unix socket (or TCP with TLS) whose routes the test sets, recording every
request it gets. A route answers with (status, body) or takes over the connection like
attach and exec start do."""

from __future__ import annotations

import http.server
import json
import re
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the /vX.Y prefix
    version: str | None
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    hijack: Callable[[socket.socket, Request], None] | None = None  # after the 101/200 head
    chunks: list[bytes] | None = None  # a chunked body, sent piece by piece


Handler = Callable[[Request], Reply]
PORTER = Path(sys.executable).parent / "porter"


class FakeEngine:
    """Refuses a request at an API version above its own as too new, as dockerd does."""

    def __init__(self, api_version: str | None = "1.43") -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Request] = []
        self.api_version = api_version
        self.server: socketserver.BaseServer | None = None
        self.route("GET", "/_ping", lambda r: Reply(200, b"OK"))

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answer METHOD requests whose path (without /vX.Y) fully matches `pattern`; the
        routes added last win."""
        self.routes.insert(0, (method, re.compile(pattern), handler))

    def json(self, method: str, pattern: str, body: Any, status: int = 200) -> None:
        self.route(method, pattern, lambda r: Reply(status, body))

    def seen(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def serve_unix(self, path: Path) -> str:
        engine = self

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hangs up early (a closed pipe, a detach) is no error here

        self.server = Server(str(path), _handler(engine))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"unix://{path}"

    def serve_tls(self, context: Any) -> str:
        engine = self

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def get_request(self) -> tuple[socket.socket, Any]:
                sock, address = super().get_request()
                return context.wrap_socket(sock, server_side=True), address

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a refused handshake is what some tests expect

        self.server = Server(("127.0.0.1", 0), _handler(engine))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"tcp://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _newer(version: str, than: str) -> bool:
    return tuple(map(int, version.split("."))) > tuple(map(int, than.split(".")))


def _handler(engine: FakeEngine) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            url = urlsplit(self.path)
            match = re.match(r"^/v(\d+\.\d+)(/.*)$", url.path)
            version, path = (match.group(1), match.group(2)) if match else (None, url.path)
            body = self._body()
            request = Request(
                self.command,
                path,
                version,
                parse_qs(url.query),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            engine.requests.append(request)
            if version and engine.api_version and _newer(version, engine.api_version):
                message = (
                    f"client version {version} is too new. "
                    f"Maximum supported API version is {engine.api_version}"
                )
                self._reply(Reply(400, {"message": message}), request)
                return
            for method, pattern, handler in engine.routes:
                if method == self.command and pattern.fullmatch(path):
                    self._reply(handler(request), request)
                    return
            self._reply(Reply(404, {"message": f"page not found: {path}"}), request)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(self, reply: Reply, request: Request) -> None:
            if reply.hijack is not None:
                upgrade = request.headers.get("upgrade") == "tcp"
                head = (
                    "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                    if upgrade
                    else "HTTP/1.1 200 OK\r\n"
                )
                self.wfile.write(
                    f"{head}Content-Type: application/vnd.docker.raw-stream\r\n\r\n".encode()
                )
                self.wfile.flush()
                reply.hijack(self.connection, request)
                self.close_connection = True
                return
            self.send_response(reply.status)
            if engine.api_version and request.path == "/_ping":
                self.send_header("API-Version", engine.api_version)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.chunks is not None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in reply.chunks:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                return
            data = (
                reply.body
                if isinstance(reply.body, bytes)
                else (b"" if reply.body is None else json.dumps(reply.body).encode())
            )
            if not isinstance(reply.body, bytes) and reply.body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if request.method != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    return Handler
