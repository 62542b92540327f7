"""Serving the app: waitress for HTTP, and in front of it a small TLS terminator for HTTPS.

waitress speaks plain HTTP only. With TLS configured, waitress listens on a private unix socket
and `TlsFrontend` accepts TLS connections on the public address, one thread per connection
pumping decrypted bytes to waitress and back. HTTP parsing (keep-alive, chunked bodies) stays
waitress's in both cases.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any

import waitress
from waitress.channel import HTTPChannel
from waitress.task import WSGITask

from porter_registry.config import ConfigError, RegistryConfig
from porter_registry.spool import prepare_spool, spooling_parser

log = logging.getLogger("porter_registry")

_PUMP_BYTES = 256 * 1024
_HANDSHAKE_TIMEOUT = 30.0
_IDLE_TIMEOUT = 600.0


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"tls: cannot load certificate {cert} / key {key}: {exc}") from exc
    return context


def _pump(client: ssl.SSLSocket, backend: socket.socket) -> None:
    """Copy bytes both ways until either side closes or the connection idles out."""
    ends = {client.fileno(): client, backend.fileno(): backend}
    poller = select.poll()  # not select, which refuses descriptors past 1023
    for fd in ends:
        poller.register(fd, select.POLLIN)
    try:
        while True:
            ready: list[socket.socket]
            if client.pending():
                ready = [client]
            else:
                ready = [ends[fd] for fd, _ in poller.poll(_IDLE_TIMEOUT * 1000)]
                if not ready:
                    return
            for source in ready:
                data = source.recv(_PUMP_BYTES)
                if not data:
                    return
                (backend if source is client else client).sendall(data)
    except (OSError, ssl.SSLError):
        return
    finally:
        for end in (client, backend):
            with contextlib.suppress(OSError):
                end.close()


class TlsFrontend:
    """Accepts TLS on `address` and relays each connection to waitress's unix socket."""

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, backend: str) -> None:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.create_server(address, family=family, backlog=256)
        self.context = context
        self.backend = backend
        self.port = self.socket.getsockname()[1]
        self._closed = threading.Event()

    def serve_forever(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(_HANDSHAKE_TIMEOUT)
        try:
            client = self.context.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        client.settimeout(None)
        backend = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            backend.connect(self.backend)
        except OSError:
            client.close()
            backend.close()
            return
        _pump(client, backend)

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.socket.close()


_TLS_HANDSHAKE_RECORD = 0x16
# A first body write up to this size leaves in the same send as the response head.
_ONE_SEND_BYTES = 64 * 1024


class _HeldWrites:
    """Stands in for a task's channel while the task writes: keeps what it would send, and
    answers everything else (the server, its settings) from the channel."""

    def __init__(self, channel: HTTPChannel) -> None:
        self.channel = channel
        self.pieces: list[bytes] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.channel, name)

    def write_soon(self, data: bytes) -> int:
        self.pieces.append(data)
        return len(data)


class OneSendTask(WSGITask):
    """Sends the response head and a small first body write together.

    waitress sends the head, then the body: two sends and two TCP segments for every small
    answer (a manifest, an error document), which the client must read twice.
    """

    def write(self, data: bytes) -> None:
        small = isinstance(data, bytes) and 0 < len(data) <= _ONE_SEND_BYTES
        if self.wrote_header or not small:
            super().write(data)
            return
        channel = self.channel
        held = _HeldWrites(channel)
        self.channel = held
        try:
            super().write(data)
        finally:
            self.channel = channel
        channel.write_soon(b"".join(held.pieces))


class PlainHttpChannel(HTTPChannel):
    """Hangs up at once on a TLS ClientHello sent to the plain-HTTP port.

    Clients told a registry is insecure (skopeo, podman, docker) try HTTPS first and fall back to
    HTTP when that fails; without this they wait out a handshake timeout on every request.
    """

    _first_bytes = True

    def received(self, data: bytes) -> bool:
        if self._first_bytes and data:
            self._first_bytes = False
            if data[0] == _TLS_HANDSHAKE_RECORD:
                self.will_close = True
                return False
        return bool(super().received(data))


def _channel_class(config: RegistryConfig, plain: bool) -> type[HTTPChannel]:
    """waitress's channel, spooling request bodies into the data folder (see spool.py) and
    sending small answers in one piece (`OneSendTask`)."""
    parser = spooling_parser(prepare_spool(config.data))
    base = PlainHttpChannel if plain else HTTPChannel
    return type("RegistryChannel", (base,), {"parser_class": parser, "task_class": OneSendTask})


def _waitress_options(config: RegistryConfig) -> dict[str, Any]:
    limits = config.limits
    return {
        "threads": limits.threads,
        "connection_limit": limits.connection_limit,
        "max_request_body_size": limits.max_request_bytes,
        "ident": "porter-registry",
        "asyncore_use_poll": True,
        "channel_timeout": 300,
        "outbuf_overflow": 8 * 1024 * 1024,
        "inbuf_overflow": 4 * 1024 * 1024,
        "send_bytes": 1,
        # Large reads: a 512 MiB upload in 8 KiB recv() calls (the default) costs more CPU than
        # hashing it.
        "recv_bytes": 1 << 20,
        "clear_untrusted_proxy_headers": True,
    }


def serve(
    app: Callable[..., Any],
    config: RegistryConfig,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT; `announce` gets the URL once the socket is listening."""
    host, port = config.listen_address()
    options = _waitress_options(config)
    backend_dir = None
    frontend = None
    if config.tls.cert:
        context = tls_context(config.tls.cert, config.tls.key)
        backend_dir = tempfile.mkdtemp(prefix="porter-registry-")
        backend_path = os.path.join(backend_dir, "http.sock")
        server = waitress.create_server(
            app, unix_socket=backend_path, unix_socket_perms="600", url_scheme="https", **options
        )
        try:
            frontend = TlsFrontend((host, port), context, backend_path)
        except OSError as exc:
            raise ConfigError(f"listen {config.listen}: {exc.strerror}") from exc
        server.channel_class = _channel_class(config, plain=False)  # type: ignore[union-attr]
        threading.Thread(target=frontend.serve_forever, daemon=True).start()
        url = f"https://{host}:{frontend.port}"
    else:
        try:
            server = waitress.create_server(app, host=host, port=port, **options)
        except OSError as exc:
            raise ConfigError(f"listen {config.listen}: {exc.strerror}") from exc
        server.channel_class = _channel_class(config, plain=True)  # type: ignore[union-attr]
        url = f"http://{host}:{server.effective_port}"  # type: ignore[union-attr]

    def stop(signum: int, frame: object) -> None:
        if frontend is not None:
            frontend.close()
        server.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    (announce or log.info)(f"porter-registry listening on {url}")
    try:
        server.run()
    finally:
        if backend_dir is not None:
            shutil.rmtree(backend_dir, ignore_errors=True)
