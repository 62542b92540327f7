"""A TCP proxy on loopback that drops the first connection sending a PATCH, part-way through.

For the upload-resume tests: the client must ask the registry where the upload stands and
send the rest, instead of failing or starting again from nothing.
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


def _close(end: socket.socket) -> None:
    with suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)
    end.close()


@contextmanager
def cutting_proxy(upstream: tuple[str, int], cut_after: int) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(upstream, cut_after)
    thread = threading.Thread(target=proxy.serve, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.close()
        thread.join(timeout=5)
