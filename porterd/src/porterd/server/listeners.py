"""Listening sockets for `-H unix://PATH` and `-H tcp://HOST:PORT` (mutual TLS)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import socketserver
import ssl
import stat
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from porter_specs.errors import PorterError

from porterd.server.wsgi import WSGIRequestHandler

log = logging.getLogger("porterd.server")

SOCKET_MODE = 0o660


class ListenerError(PorterError):
    """A `-H` address that cannot be listened on."""


@dataclass(frozen=True)
class TLSFiles:
    """`--tlscacert`, `--tlscert`, `--tlskey`: clients must present a cert signed by the CA."""

    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.cert, self.key)
            context.load_verify_locations(cafile=self.ca)
        except (OSError, ssl.SSLError) as error:
            files = f"{self.ca}, {self.cert}, {self.key}"
            raise ListenerError(f"TLS files ({files}): {error}") from error
        context.verify_mode = ssl.CERT_REQUIRED
        return context


class _Serving(socketserver.ThreadingMixIn):
    """What the unix and TCP servers share: the app, threads, and hijacked connections."""

    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog of 5 refuses connections when a client opens many at once
    # (`docker rm -f` of 20 containers sends 20 requests in parallel); dockerd's Go listener
    # takes the kernel's somaxconn.
    request_queue_size = socket.SOMAXCONN
    app: Any
    url_scheme = "http"

    def forget(self, request: socket.socket) -> None:
        """The connection was hijacked: the responder closes it, not the server."""
        with self._hijacked_lock:
            self._hijacked.add(id(request))

    def shutdown_request(self, request: Any) -> None:
        with self._hijacked_lock:
            if id(request) in self._hijacked:
                self._hijacked.discard(id(request))
                return
        super().shutdown_request(request)  # type: ignore[misc]

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("error on a connection")

    def _init_serving(self, app: Any) -> None:
        self.app = app
        self._hijacked: set[int] = set()
        self._hijacked_lock = threading.Lock()


class UnixHTTPServer(_Serving, socketserver.UnixStreamServer):
    server_label = "localhost"
    server_port = 0

    def __init__(self, path: Path, app: Any, group: int | None) -> None:
        self._init_serving(app)
        _remove_stale_socket(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(str(path), WSGIRequestHandler, bind_and_activate=False)
        # The socket is made 0660 before anyone can connect to it.
        old_umask = os.umask(0o177)
        try:
            self.server_bind()
        finally:
            os.umask(old_umask)
        os.chmod(path, SOCKET_MODE)
        if group is not None:
            os.chown(path, -1, group)
        self.server_activate()
        self.path = path

    def server_close(self) -> None:
        super().server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class TCPHTTPServer(_Serving, socketserver.TCPServer):
    allow_reuse_address = True

    def __init__(self, host: str, port: int, app: Any, context: ssl.SSLContext | None) -> None:
        self._init_serving(app)
        if ":" in host:
            self.address_family = socket.AF_INET6
        self._context = context
        self.url_scheme = "https" if context else "http"
        super().__init__((host, port), WSGIRequestHandler)
        self.server_label, self.server_port = host, self.server_address[1]

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        if self._context is None:
            return connection, address
        # The handshake runs in the connection's thread (WSGIRequestHandler.setup).
        return self._context.wrap_socket(
            connection, server_side=True, do_handshake_on_connect=False
        ), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.info("connection from %s ended: refused or broken", client_address)


def _remove_stale_socket(path: Path) -> None:
    """A socket left by a porterd that died; the data-root lock says none is running."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ListenerError(f"{path} exists and is not a socket")
    path.unlink()


@dataclass
class Listener:
    """One `-H` address being served, in a thread of its own."""

    address: str
    server: UnixHTTPServer | TCPHTTPServer

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever, name=f"listener {self.address}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


@dataclass(frozen=True)
class Address:
    """A parsed `-H` value: a unix socket path, or a TCP host and port."""

    text: str
    path: Path | None = None
    host: str = ""
    port: int = 0


def parse_address(address: str) -> Address:
    """`unix:///abs/path` or `tcp://HOST:PORT`; anything else is one ListenerError."""
    scheme, _, rest = address.partition("://")
    if scheme == "unix":
        path = Path(rest)  # all of it: unix://run/x is a relative path, not host "run"
        if not rest or not path.is_absolute():
            raise ListenerError(f"{address}: a unix socket needs an absolute path")
        return Address(address, path=path)
    if scheme == "tcp":
        try:
            url = urllib.parse.urlsplit(address)
            host, port = url.hostname, url.port
        except ValueError as error:
            raise ListenerError(f"{address}: {error}") from None
        if host is None or port is None:
            raise ListenerError(f"{address}: expected tcp://HOST:PORT")
        return Address(address, host=host, port=port)
    raise ListenerError(f"{address}: expected unix:///PATH or tcp://HOST:PORT")


def listen(
    address: str, app: Any, *, tls: TLSFiles | None = None, group: int | None = None
) -> Listener:
    """Bind `address` (`unix:///path` or `tcp://host:port`) and return it, not started yet.

    A TCP address without TLS files is refused: anyone who can reach the port would be root.
    """
    parsed = parse_address(address)
    if parsed.path is None and tls is None:
        raise ListenerError(
            f"{address}: refusing a TCP listener without --tlsverify"
            " (--tlscacert, --tlscert, --tlskey)"
        )
    try:
        if parsed.path is not None:
            return Listener(address, UnixHTTPServer(parsed.path, app, group))
        assert tls is not None
        server = TCPHTTPServer(parsed.host, parsed.port, app, tls.server_context())
        return Listener(address, server)
    except OSError as error:
        raise ListenerError(f"cannot listen on {address}: {error.strerror or error}") from error
