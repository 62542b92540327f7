"""A minimal HTTP/1.1 client connection: one request, one response, then close, over any
connected socket (unix, TCP, TLS). It does what the Engine API client needs and no more:
a body sent whole or chunked, and a response body delimited by Content-Length, chunked
encoding, or the end of the connection. It replaces http.client, whose import (email
parsing, ssl) took a third of `porter ps`'s start-up.

The socket may be the `_socket` module's own (what transport makes for a unix path, without
the enum-laden `socket` module) or any object with sendall, recv_into and close; the response
is read through a buffer over recv_into, as socket.makefile would."""

from __future__ import annotations

import io

TYPE_CHECKING = False  # typing's import alone costs `porter ps` a few milliseconds
if TYPE_CHECKING:
    import socket
    from collections.abc import Callable, Iterable

_MAX_LINE = 64 * 1024
_MAX_HEADERS = 200
# Statuses whose response has no body whatever its headers say.
_NO_BODY = (204, 304)


class ProtocolError(ValueError):
    """An answer that is not HTTP/1.x."""


class Headers:
    """Response headers: `get` ignores the case of the name, `items` keeps the order."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._by_name = {name.lower(): value for name, value in pairs}

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._by_name.get(name.lower(), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)


class Response:
    """The status, headers and body of an answer; the body is read with read/read1."""

    def __init__(self, file: io.BufferedReader, method: str) -> None:
        self._file = file
        status_line = self._line()
        version, _, rest = status_line.partition(" ")
        code, _, self.reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ProtocolError(f"bad status line {status_line[:80]!r}")
        self.status = int(code)
        pairs = []
        while line := self._line():
            name, colon, value = line.partition(":")
            if not colon or len(pairs) >= _MAX_HEADERS:
                raise ProtocolError(f"bad header line {line[:80]!r}")
            pairs.append((name.strip(), value.strip()))
        self.headers = Headers(pairs)
        self._chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        self._chunk_left = 0  # of the current chunk (chunked) or of the body (length)
        self._remaining: int | None = None  # None: until the connection ends
        if method == "HEAD" or self.status in _NO_BODY or 100 <= self.status < 200:
            self._remaining = 0
        elif not self._chunked and (length := self.headers.get("Content-Length")) is not None:
            if not length.isdigit():
                raise ProtocolError(f"bad Content-Length {length[:40]!r}")
            self._remaining = int(length)
        self._done = self._remaining == 0

    def _line(self) -> str:
        line = self._file.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise ProtocolError("header line too long")
        if not line:
            raise ProtocolError("the connection closed before the answer")
        return line.decode("latin-1").rstrip("\r\n")

    def read1(self, amount: int = 65536) -> bytes:
        """Some bytes of the body, at most `amount` (b"" at its end)."""
        if self._done or amount <= 0:
            return b""
        if self._chunked:
            if self._chunk_left == 0 and not self._next_chunk():
                return b""
            data = self._file.read1(min(amount, self._chunk_left))
            if not data:
                raise ProtocolError("the connection closed inside a chunk")
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                self._line()  # the CRLF after the chunk's data
            return data
        if self._remaining is not None:
            amount = min(amount, self._remaining)
        data = self._file.read1(amount)
        if self._remaining is not None:
            if not data:
                raise ProtocolError("the connection closed before the end of the body")
            self._remaining -= len(data)
            self._done = self._remaining == 0
        elif not data:
            self._done = True
        return data

    def _next_chunk(self) -> bool:
        size_text = self._line().partition(";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {size_text[:40]!r}") from None
        if size == 0:
            while self._line():  # trailers, up to the empty line
                pass
            self._done = True
            return False
        self._chunk_left = size
        return True

    def read(self, amount: int | None = None) -> bytes:
        """`amount` bytes of the body (fewer only at its end), or all the rest."""
        parts = []
        left = -1 if amount is None else amount
        while left != 0 and (data := self.read1(65536 if left < 0 else left)):
            parts.append(data)
            if left > 0:
                left -= len(data)
        return b"".join(parts)

    def close(self) -> None:
        self._done = True
        self._file.close()


class _SocketReader(io.RawIOBase):
    """The receiving side of a connected socket as a raw stream (socket.makefile's SocketIO
    in short: a timeout or a reset is the socket's own OSError)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._sock.recv_into(buffer)


class Connection:
    """One request and its response over a socket that `connect` opens; `host` is the Host
    header."""

    def __init__(self, connect: Callable[[], socket.socket], host: str) -> None:
        self._connect = connect
        self.host = host
        self.sock: socket.socket | None = None
        self._method = "GET"
        self._response: Response | None = None

    def request(
        self,
        method: str,
        url: str,
        body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send the request: a bytes body with its length, an iterable one chunked."""
        self._method = method
        head = [f"{method} {url} HTTP/1.1", f"Host: {self.host}", "Accept-Encoding: identity"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if isinstance(body, bytes):
            head.append(f"Content-Length: {len(body)}")
        elif body is not None:
            head.append("Transfer-Encoding: chunked")
        elif method in ("POST", "PUT", "PATCH"):
            head.append("Content-Length: 0")
        self.sock = sock = self._connect()
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if isinstance(body, bytes):
            if body:
                sock.sendall(body)
        elif body is not None:
            for chunk in body:
                if chunk:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")

    def getresponse(self) -> Response:
        if self.sock is None:
            raise ProtocolError("no request was sent")
        self._response = Response(io.BufferedReader(_SocketReader(self.sock)), self._method)
        return self._response

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        if self.sock is not None:
            self.sock.close()
            self.sock = None
