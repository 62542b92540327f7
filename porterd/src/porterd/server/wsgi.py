"""One HTTP/1.1 connection serving a WSGI app, with the Engine API's connection hijack.

Built on `http.server.BaseHTTPRequestHandler` for request parsing and keep-alive. What it adds:
request bodies sent chunked (docker's `load`, `cp` and build contexts are), responses without a
known length sent chunked and flushed chunk by chunk (`/events`, logs, pull progress), HEAD
answered without a body, and `environ["porterd.hijack"]`, which hands the raw socket to the
responder (attach, exec start) and takes the connection out of the server's hands.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import socket
import sys
import urllib.parse
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any

from porterd.fdwait import readable

log = logging.getLogger("porterd.server")

RAW_STREAM = "application/vnd.docker.raw-stream"
MAX_HEADER_LINE = 65536


class MalformedRequest(Exception):
    """A request whose body cannot be framed (answered 400, then the connection closes)."""


class ChunkedReader(io.RawIOBase):
    """The body of a request sent with `Transfer-Encoding: chunked`, de-chunked."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._left = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._done:
            return 0
        if self._left == 0:
            self._left = self._chunk_size()
            if self._left == 0:
                self._done = True
                return 0
        data = self._stream.read(min(len(buffer), self._left))
        if not data:
            raise ConnectionError("the client closed the connection inside a chunked body")
        buffer[: len(data)] = data
        self._left -= len(data)
        if self._left == 0:
            self._stream.readline(MAX_HEADER_LINE)  # the CRLF after the chunk
        return len(data)

    def _chunk_size(self) -> int:
        line = self._stream.readline(MAX_HEADER_LINE)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ConnectionError(f"malformed chunk size line {line[:40]!r}") from None
        if size == 0:
            while self._stream.readline(MAX_HEADER_LINE) not in (b"\r\n", b"\n", b""):
                pass  # trailers
        return size


class LimitedReader(io.RawIOBase):
    """At most `length` bytes of the request body (Content-Length)."""

    def __init__(self, stream: Any, length: int) -> None:
        self._stream = stream
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        data = self._stream.read(min(len(buffer), self._left))
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)

    def drain(self) -> None:
        """Read what the app left unread, so the next request on the connection parses."""
        while self.read(65536):
            pass


class WSGIRequestHandler(BaseHTTPRequestHandler):
    """Serves requests of one connection to `server.app` until either side closes."""

    protocol_version = "HTTP/1.1"
    server_version = "porterd"
    sys_version = ""
    # Idle keep-alive connections are closed after this long (dockerd's default has none;
    # clients reconnect transparently).
    timeout = 300

    def setup(self) -> None:
        handshake = getattr(self.request, "do_handshake", None)
        if handshake is not None:
            self.request.settimeout(30)
            handshake()  # TLS: in this connection's thread, never in the accepting one
            self.request.settimeout(None)
        super().setup()
        self.hijacked = False

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(MAX_HEADER_LINE + 1)
            if len(self.raw_requestline) > MAX_HEADER_LINE:
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._run_app()
            if not self.hijacked:
                self.wfile.flush()
        except MalformedRequest as error:
            self._refuse(str(error))
        except (ConnectionError, TimeoutError, OSError) as error:
            log.debug("connection ended: %s", error)
            self.close_connection = True

    def _refuse(self, message: str) -> None:
        """A 400 in dockerd's error shape for a request the server cannot frame, then close."""
        body = json.dumps({"message": message}).encode() + b"\n"
        self.close_connection = True
        self.wfile.write(
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        self.log_request(400)

    def finish(self) -> None:
        if self.hijacked:
            return  # the responder owns the socket and its files now
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s", format % args)

    def address_string(self) -> str:
        address = self.client_address
        return address[0] if isinstance(address, tuple) and address else "unix"

    # --- the WSGI bridge -----------------------------------------------------------------

    def _environ(self) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        server = self.server
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": urllib.parse.unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": getattr(server, "server_label", "porterd"),
            "SERVER_PORT": str(getattr(server, "server_port", "0")),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.address_string(),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": getattr(server, "url_scheme", "http"),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "porterd.hijack": self._hijack,
            "porterd.disconnected": self._disconnected,
            # TLS: the client's certificate as ssl.getpeercert() gives it (None without TLS)
            "porterd.peer_certificate": getattr(self.request, "getpeercert", lambda: None),
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[name] = value
            else:
                header = "HTTP_" + name
                environ[header] = f"{environ[header]},{value}" if header in environ else value
        return environ

    def _body(self) -> LimitedReader | ChunkedReader:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return ChunkedReader(self.rfile)
        value = self.headers.get("Content-Length") or "0"
        if not value.strip().isdigit():
            raise MalformedRequest(f"malformed Content-Length {value[:40]!r}")
        return LimitedReader(self.rfile, int(value))

    def _run_app(self) -> None:
        body = self._body()
        environ = self._environ()
        environ["wsgi.input"] = io.BufferedReader(body)
        self._status = ""
        self._headers: list[tuple[str, str]] = []
        self._headers_sent = False
        self._written: list[bytes] = []
        result = self.server.app(environ, self._start_response)
        try:
            if self.hijacked:
                return
            self._send(itertools.chain(self._written, result))
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if isinstance(body, LimitedReader):
            body.drain()
        elif not body.closed:
            environ["wsgi.input"].read()

    def _start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and self._headers_sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self._status, self._headers = status, list(headers)
        return self._written.append  # WSGI's write(): sent ahead of the returned iterable

    def _send(self, result: Iterable[bytes]) -> None:
        names = {name.lower() for name, _ in self._headers}
        head = self.command == "HEAD" or self._status[:3] in ("204", "304")
        chunked = not head and "content-length" not in names
        if chunked and self.request_version != "HTTP/1.1":
            chunked, self.close_connection = False, True  # HTTP/1.0: the end is the close
        self._send_head(chunked)
        if head:
            return
        for data in result:
            if not data:
                continue
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _send_head(self, chunked: bool) -> None:
        names = {name.lower() for name, _ in self._headers}
        lines = [f"{self.protocol_version} {self._status}"]
        lines += [f"{name}: {value}" for name, value in self._headers]
        if "server" not in names:
            lines.append(f"Server: {self.server_version}")
        lines.append(f"Date: {self.date_time_string()}")
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.wfile.flush()
        self._headers_sent = True
        self.log_request(self._status[:3])

    # --- the hijack ----------------------------------------------------------------------

    def _hijack(self) -> socket.socket:
        """Answer with the raw-stream head and hand the socket over (attach, exec start)."""
        upgrade = "tcp" in self.headers.get("Upgrade", "").lower()
        if upgrade:
            head = (
                "HTTP/1.1 101 UPGRADED\r\n"
                f"Content-Type: {RAW_STREAM}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
            )
        else:
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {RAW_STREAM}\r\n\r\n"
        # Looked at before the head goes out: afterwards the peek could pull the client's
        # first stream bytes into rfile, away from the socket the responder reads.
        early = self._buffered_input()
        if early:
            # docker and docker-py send nothing before the 101; other clients lose these bytes.
            log.warning("%d bytes sent before the upgrade were dropped", early)
        self.wfile.write(head.encode("latin-1"))
        self.wfile.flush()
        self.request.settimeout(None)  # an attached terminal may idle for as long as its user
        self.hijacked = True
        self.close_connection = True
        self.server.forget(self.request)
        self.log_request(101 if upgrade else 200)
        return self.request

    def _buffered_input(self) -> int:
        """How many bytes the client sent that sit read ahead in `rfile`, without waiting."""
        self.request.setblocking(False)
        try:
            return len(self.rfile.peek(1))
        except (OSError, ValueError):
            return 0
        finally:
            self.request.setblocking(True)

    def _disconnected(self) -> bool:
        """Whether the client has gone (for streams that wait long between writes)."""
        try:
            if not readable(self.request, 0):
                return False
            # A peek at the descriptor itself: TLS sockets refuse MSG_PEEK.
            with socket.socket(fileno=os.dup(self.request.fileno())) as raw:
                return raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except (OSError, ValueError):
            return True
