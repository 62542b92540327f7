"""HTTP/1.1 connections to the daemon (porter_cli.client.http11) over a unix socket, plain
TCP, or TCP with mutual TLS; and the raw connected socket a hijacked request leaves
behind.

A request over a unix socket uses the `_socket` module's socket: the `socket` module wraps
the same object, but its import (enum classes for every address family, selectors) costs
`porter ps` more than the request itself. TCP, TLS and hijacked connections import it."""

from __future__ import annotations

import _socket

from porter_cli.client.endpoint import Endpoint, TLSFiles
from porter_cli.client.errors import DaemonUnreachable, EndpointError
from porter_cli.client.http11 import Connection

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    import ssl

    from porter_cli.client.hijack import Channel


def tls_context(files: TLSFiles) -> ssl.SSLContext:
    """A client context presenting the client certificate, checking the daemon's against
    the CA when `verify` is set."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=files.ca)
    if not files.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if files.cert or files.key:
        if not (files.cert and files.key):
            raise EndpointError("TLS needs both a client certificate and its key")
        try:
            context.load_cert_chain(files.cert, files.key)
        except (OSError, ssl.SSLError) as error:
            raise EndpointError(
                f"cannot load the client certificate {files.cert}: {error}"
            ) from error
    return context


def connection(endpoint: Endpoint, timeout: float | None = None) -> Connection:
    """A new connection to the endpoint, connected when its request is sent."""
    if endpoint.tls is None:
        host = "localhost" if endpoint.scheme == "unix" else str(endpoint.address[0])
        return Connection(lambda: plain_socket(endpoint, timeout), host)
    try:
        context = tls_context(endpoint.tls)
    except OSError as error:
        raise EndpointError(f"cannot load the TLS files: {error}") from error
    host = str(endpoint.address[0])

    def connect() -> socket.socket:
        sock = full_socket(plain_socket(endpoint, timeout))
        try:
            return context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise

    return Connection(connect, host)


def plain_socket(endpoint: Endpoint, timeout: float | None = None) -> socket.socket:
    """A socket connected to the endpoint's unix path or TCP address (no TLS): for a unix
    path, the `_socket` module's, which has what http11 uses of a socket."""
    if endpoint.scheme == "unix":
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(str(endpoint.address))
        except BaseException:
            sock.close()
            raise
        return sock  # type: ignore[return-value]
    import socket

    return socket.create_connection(endpoint.address, timeout)  # type: ignore[arg-type]


def full_socket(sock: socket.socket) -> socket.socket:
    """`sock` as a `socket.socket` (what ssl and the hijacked streams' users expect), with
    its timeout."""
    import socket

    if isinstance(sock, socket.socket):
        return sock
    timeout = sock.gettimeout()
    full = socket.socket(fileno=sock.detach())
    full.settimeout(timeout)
    return full


def raw_channel(endpoint: Endpoint, timeout: float | None = None) -> Channel:
    """A connected socket for a hijacked request: unix, TCP, or TLS through a TLSChannel
    (which can half-close when stdin ends); always a `socket.socket`, as the attach and
    exec code expects of one."""
    sock = full_socket(plain_socket(endpoint, timeout))
    if endpoint.tls is None:
        return sock
    from porter_cli.client.tls_channel import TLSChannel

    try:
        return TLSChannel(sock, tls_context(endpoint.tls), str(endpoint.address[0]))
    except BaseException:
        sock.close()
        raise


def unreachable(endpoint: Endpoint, error: OSError) -> DaemonUnreachable:
    """The one-line reason a connection failed, as a DaemonUnreachable."""
    if isinstance(error, FileNotFoundError):
        reason = "no such socket (is the daemon running?)"
    elif isinstance(error, ConnectionRefusedError):
        reason = "connection refused (is the daemon running?)"
    elif isinstance(error, PermissionError):
        reason = "permission denied"
    else:
        reason = str(error.strerror or error) if not _is_ssl(error) else f"TLS: {error}"
    return DaemonUnreachable(endpoint.host, reason)


def _is_ssl(error: OSError) -> bool:
    return type(error).__module__ == "ssl"
