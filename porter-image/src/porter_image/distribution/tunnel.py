"""HTTPS to a registry through a proxy's CONNECT tunnel, the proxy reached over plain HTTP
or, for an https:// proxy URL, over TLS: then the registry's TLS runs inside the proxy's
(an `ssl.SSLObject` on memory BIOs whose records the outer TLS socket carries), as urllib3
and Go's net/http do it.

The proxy's answer to CONNECT is read with http.client's limits (64 KiB a line, 100
headers); a proxy that refuses the tunnel is `ProxyTunnelError`, naming proxy and target.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
from typing import TYPE_CHECKING, Any

from porter_image.distribution.proxies import ProxyTunnelError

if TYPE_CHECKING:
    from collections.abc import Callable

    from porter_image.distribution.proxies import Route

RECORD = 65536


class TunnelConnection(http.client.HTTPConnection):
    """An HTTPS connection to `route.host` through the route's proxy."""

    default_port = 443

    def __init__(
        self,
        route: Route,
        timeout: float | None,
        context: ssl.SSLContext,
        proxy_context: ssl.SSLContext | None,
    ) -> None:
        super().__init__(route.host, route.port, timeout=timeout)
        self._route = route
        self._contexts = (context, proxy_context)

    def connect(self) -> None:
        self.sock = open_tunnel(self._route, self.timeout, *self._contexts)


def open_tunnel(
    route: Route,
    timeout: float | None,
    context: ssl.SSLContext,
    proxy_context: ssl.SSLContext | None = None,
) -> Any:
    """A socket-like TLS connection (made with `context`) to the route's host, through its
    proxy's CONNECT; an https:// proxy is reached with `proxy_context`."""
    assert route.proxy_host is not None and route.proxy_port is not None
    raw = socket.create_connection((route.proxy_host, route.proxy_port), timeout)
    sock: Any = raw
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if route.proxy_scheme == "https":
            assert proxy_context is not None
            sock = proxy_context.wrap_socket(raw, server_hostname=route.proxy_host)
            _ask_tunnel(sock, route)
            return TlsInTls(sock, context, route.host)
        _ask_tunnel(sock, route)
        return context.wrap_socket(sock, server_hostname=route.host)
    except BaseException:
        sock.close()
        raise


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _ask_tunnel(sock: Any, route: Route) -> None:
    target = _authority(route.host, route.port)
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    lines += [f"{name}: {value}" for name, value in route.proxy_headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    response = http.client.HTTPResponse(sock, method="CONNECT")
    try:
        response.begin()
    finally:
        response.close()  # the answer's reader only; the socket stays open
    if response.status != 200:
        proxy = _authority(route.proxy_host or "", route.proxy_port or 0)
        raise ProxyTunnelError(
            f"Tunnel connection failed: {response.status} {response.reason.strip()[:200]}"
            f" (proxy {proxy}, to {target})",
            response.status,
        )


class TlsInTls:
    """TLS to the registry over an `ssl.SSLSocket` to the proxy: the socket methods
    http.client and the session use (sendall, recv_into, makefile, settimeout, fileno,
    pending, close)."""

    def __init__(self, outer: ssl.SSLSocket, context: ssl.SSLContext, hostname: str) -> None:
        self._outer = outer
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=hostname)
        self._readers = 0
        self._closed = False
        self._run(self._tls.do_handshake)

    def _run(self, operation: Callable[..., Any], *args: Any) -> Any:
        """`operation` of the inner TLS, its records carried by the outer socket."""
        while True:
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                self._flush()
                data = self._outer.recv(RECORD)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            self._flush()
            return result

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self._outer.sendall(data)

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        while view:
            view = view[self._run(self._tls.write, view) :]

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        try:
            return int(self._run(self._tls.read, nbytes or len(buffer), buffer))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return 0  # the end of the stream, with or without close_notify (as SSLSocket)

    def recv(self, size: int) -> bytes:
        buffer = bytearray(size)
        return bytes(buffer[: self.recv_into(buffer)])

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"only 'rb' files of a tunnelled connection, not {mode!r}")
        self._readers += 1
        return io.BufferedReader(_Reader(self))

    def settimeout(self, timeout: float | None) -> None:
        self._outer.settimeout(timeout)

    def gettimeout(self) -> float | None:
        return self._outer.gettimeout()

    def fileno(self) -> int:
        return self._outer.fileno()

    def pending(self) -> int:
        return self._tls.pending() or self._incoming.pending or self._outer.pending()

    def close(self) -> None:
        """Closed now, or when the last reader made by `makefile` is (as a socket is)."""
        self._closed = True
        if self._readers == 0:
            self._outer.close()

    def _reader_closed(self) -> None:
        self._readers -= 1
        if self._closed and self._readers == 0:
            self._outer.close()


class _Reader(io.RawIOBase):
    def __init__(self, tunnel: TlsInTls) -> None:
        super().__init__()
        self._tunnel: TlsInTls | None = tunnel

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._tunnel is None:
            raise ValueError("read of a closed file")
        return self._tunnel.recv_into(buffer)

    def close(self) -> None:
        tunnel, self._tunnel = self._tunnel, None
        if tunnel is not None:
            tunnel._reader_closed()
        super().close()
