"""The hijacked connection of attach and exec start: the request asks for `Upgrade: tcp`,
the daemon answers `101 UPGRADED` (or `200 OK` from daemons that do not upgrade), and from
then on the socket carries the container's raw stream both ways.

The response head is read here by hand, not by http.client: http.client's buffered reader
could swallow the first bytes of the stream along with the head."""

from __future__ import annotations

import contextlib
import json
import socket
from typing import Any, Protocol

from porter_cli.client.errors import APIError, DaemonUnreachable, error_message


class Channel(Protocol):
    """A connected socket, or a TLSChannel over one."""

    def recv(self, size: int) -> bytes: ...

    def sendall(self, data: bytes) -> None: ...

    def shutdown(self, how: int) -> None: ...

    def close(self) -> None: ...


_MAX_HEAD = 64 * 1024


class HijackedStream:
    """The raw stream of a hijacked connection; `pending` holds bytes read past the head."""

    def __init__(self, sock: Channel, pending: bytes = b"") -> None:
        self.sock = sock
        self._pending = pending

    def recv(self, size: int = 65536) -> bytes:
        """Some bytes of the stream (b"" at its end)."""
        if self._pending:
            chunk, self._pending = self._pending[:size], self._pending[size:]
            return chunk
        try:
            return self.sock.recv(size)
        except ConnectionResetError:
            return b""

    def read(self, size: int) -> bytes:
        """Exactly `size` bytes, fewer only at the end of the stream."""
        parts = []
        while size > 0:
            chunk = self.recv(size)
            if not chunk:
                break
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_write(self) -> None:
        """Tell the daemon that stdin ended: a half close (after close_notify with TLS)."""
        from porter_cli.client.tls_channel import TLSChannel

        with contextlib.suppress(OSError):
            if isinstance(self.sock, TLSChannel):
                self.sock.close_write()
            else:
                self.sock.shutdown(socket.SHUT_WR)

    def shutdown(self) -> None:
        """End both directions now (detach): the output loop sees the end of the stream."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def request_head(url: str, host: str, body: bytes | None) -> bytes:
    lines = [
        f"POST {url} HTTP/1.1",
        f"Host: {host}",
        "User-Agent: porter-cli",
        "Connection: Upgrade",
        "Upgrade: tcp",
    ]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    else:
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"bad status line {status_line!r}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def hijack(sock: Channel, host: str, url: str, body: Any) -> HijackedStream:
    """Send the upgrade request on the connected `sock` and return the stream after the head;
    an error status raises APIError with the daemon's message."""
    payload = None if body is None else json.dumps(body).encode()
    try:
        sock.sendall(request_head(url, host, payload) + (payload or b""))
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk or len(buffer) > _MAX_HEAD:
                raise DaemonUnreachable(host, "the connection closed before an answer")
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        status, headers = parse_head(head)
    except (OSError, ValueError) as error:
        sock.close()
        raise DaemonUnreachable(host, f"attach failed: {error}") from error
    if status >= 400:
        body_bytes = _read_error_body(sock, rest, headers)
        sock.close()
        raise APIError(status, error_message(status, body_bytes))
    return HijackedStream(sock, rest)


def _read_error_body(sock: Channel, rest: bytes, headers: dict[str, str]) -> bytes:
    chunked = headers.get("transfer-encoding", "").lower() == "chunked"
    length = headers.get("content-length", "")
    want = int(length) if length.isdigit() and not chunked else _MAX_HEAD
    try:
        while len(rest) < want and not (chunked and rest.endswith(b"0\r\n\r\n")):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    except OSError:
        pass
    return dechunk(rest) if chunked else rest[:want]


def dechunk(data: bytes) -> bytes:
    """The body of a chunked transfer encoding (as far as it was read)."""
    out = []
    while data:
        size_line, sep, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16) if sep else 0
        if size == 0:
            break
        out.append(data[:size])
        data = data[size + 2 :]
    return b"".join(out)
