"""TCP proxies on loopback that drop a connection part-way through a transfer.

`CuttingProxy` drops the first connection sending a PATCH, for the upload-resume tests: the
client must ask the registry where the upload stands and send the rest, instead of failing
or starting again from nothing. `BlobCuttingProxy` drops the first answer to a blob GET
part-way through its body, for the download-resume tests: the client must ask for the rest
(Range) instead of failing or fetching the whole blob again.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

CHUNK = 65536


class CuttingProxy:
    def __init__(self, upstream: tuple[str, int], cut_after: int) -> None:
        self.upstream = upstream
        self.cut_after = cut_after
        self.cuts = 0
        self.patches = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._lock = threading.Lock()

    def serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self._relay(client, upstream)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        threading.Thread(target=self._pump_up, args=(client, upstream), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump_up(self, source: socket.socket, target: socket.socket) -> None:
        """Client to registry: count PATCH requests; cut the first one after `cut_after`."""
        sent_in_patch = -1
        try:
            while data := source.recv(CHUNK):
                if data.startswith(b"PATCH ") or b"\r\nPATCH " in data:
                    with self._lock:
                        self.patches += 1
                        first = self.cuts == 0
                    sent_in_patch = 0 if first else -1
                if sent_in_patch >= 0:
                    sent_in_patch += len(data)
                    if sent_in_patch > self.cut_after:
                        with self._lock:
                            self.cuts += 1
                        break
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            _close(end)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            _close(end)

    def close(self) -> None:
        self.listener.close()


class BlobCuttingProxy(CuttingProxy):
    """Drops the first blob answer that runs past `cut_after` bytes, on whichever connection
    it comes (a client may fetch the config and the layers on connections of their own, in
    any order); counts the blob GETs, and those asking for a Range."""

    def __init__(self, upstream: tuple[str, int], cut_after: int) -> None:
        super().__init__(upstream, cut_after)
        self.blob_gets = 0
        self.range_gets = 0

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        answer = _Answer()
        up = threading.Thread(target=self._watch, args=(client, upstream, answer), daemon=True)
        down = threading.Thread(target=self._cut, args=(upstream, client, answer), daemon=True)
        up.start()
        down.start()

    def _watch(self, source: socket.socket, target: socket.socket, answer: _Answer) -> None:
        """Client to registry: a blob GET makes its connection's next answer a blob's.
        (A client sends its next request only once it has read the answer before.)"""
        try:
            while data := source.recv(CHUNK):
                if data.startswith(b"GET ") and b"/blobs/" in data.split(b"\r\n", 1)[0]:
                    with self._lock:
                        self.blob_gets += 1
                        self.range_gets += b"\r\nrange: " in data.lower()
                    answer.blob, answer.sent = True, 0
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            _close(end)

    def _cut(self, source: socket.socket, target: socket.socket, answer: _Answer) -> None:
        try:
            while data := source.recv(CHUNK):
                if answer.blob:
                    answer.sent += len(data)
                    if answer.sent > self.cut_after and self._first_cut():
                        # headers and `cut_after` bytes, give or take
                        target.sendall(data[: len(data) - (answer.sent - self.cut_after)])
                        break
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            _close(end)

    def _first_cut(self) -> bool:
        with self._lock:
            if self.cuts:
                return False
            self.cuts = 1
            return True


class _Answer:
    """What is coming back on one connection: whether a blob, and how many bytes so far."""

    def __init__(self) -> None:
        self.blob = False
        self.sent = 0


def _close(end: socket.socket) -> None:
    with suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)
    end.close()


@contextmanager
def cutting_proxy(
    upstream: tuple[str, int], cut_after: int, kind: type[CuttingProxy] = CuttingProxy
) -> Iterator[CuttingProxy]:
    proxy = kind(upstream, cut_after)
    thread = threading.Thread(target=proxy.serve, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.close()
        thread.join(timeout=5)
