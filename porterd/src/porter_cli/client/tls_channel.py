"""TLS for a hijacked connection, run through OpenSSL's memory buffers over a plain TCP
socket: unlike ssl.SSLSocket, it can send its close_notify and half-close the socket when
stdin ends, and go on reading the container's output (docker's CloseWrite on a TLS conn)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading


class TLSChannel:
    """recv/sendall/close_write/shutdown/close of a TLS connection; one thread may read while
    another writes (stdin and output of an attach)."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, hostname: str) -> None:
        self.sock = sock
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=hostname)
        self._lock = threading.Lock()
        self._handshake()

    def _handshake(self) -> None:
        while True:
            try:
                with self._lock:
                    self._tls.do_handshake()
                    self._flush()
                return
            except ssl.SSLWantReadError:
                with self._lock:
                    self._flush()
                if not self._fill():
                    raise ConnectionResetError(
                        "the daemon closed the connection during TLS setup"
                    ) from None

    def _flush(self) -> None:
        """Send what TLS has written into the outgoing buffer (under the lock)."""
        data = self._outgoing.read()
        if data:
            self.sock.sendall(data)

    def _fill(self) -> bool:
        """Feed bytes from the socket to TLS; False at the end of the socket."""
        data = self.sock.recv(65536)
        with self._lock:
            if data:
                self._incoming.write(data)
            else:
                self._incoming.write_eof()
        return bool(data)

    def recv(self, size: int = 65536) -> bytes:
        at_end = False
        while True:
            try:
                with self._lock:
                    return self._tls.read(size)
            except ssl.SSLWantReadError:
                if at_end:
                    return b""
                at_end = not self._fill()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def sendall(self, data: bytes) -> None:
        with self._lock:
            self._tls.write(data)
            self._flush()

    def close_write(self) -> None:
        """Send close_notify and half-close the socket; reading goes on."""
        with self._lock:
            # the daemon's close_notify comes later, with the end of the output
            with contextlib.suppress(ssl.SSLWantReadError):
                self._tls.unwrap()
            self._flush()
        self.sock.shutdown(socket.SHUT_WR)

    def shutdown(self, how: int) -> None:
        self.sock.shutdown(how)

    def close(self) -> None:
        self.sock.close()
