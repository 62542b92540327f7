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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

CHUNK = 65536


# A step sees each chunk one way goes and says what of it to send on, and whether the
# connection ends after that.
Step = Callable[[bytes], tuple[bytes, bool]]


def _unchanged(data: bytes) -> tuple[bytes, bool]:
    return data, False


def _forward(source: socket.socket, target: socket.socket, step: Step) -> None:
    """Send on what `source` sends, as `step` lets it through; close both ends after."""
    try:
        while data := source.recv(CHUNK):
            data, last = step(data)
            target.sendall(data)
            if last:
                break
    except OSError:
        pass
    for end in (source, target):
        _close(end)


def _start(source: socket.socket, target: socket.socket, step: Step) -> None:
    threading.Thread(target=_forward, args=(source, target, step), daemon=True).start()


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
        _start(client, upstream, self._patch_step())
        _start(upstream, client, _unchanged)

    def _patch_step(self) -> Step:
        """Client to registry: count PATCH requests; cut the first one after `cut_after`."""
        sent_in_patch = -1

        def step(data: bytes) -> tuple[bytes, bool]:
            nonlocal sent_in_patch
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
                    return b"", True
            return data, False

        return step

    def _first_cut(self) -> bool:
        with self._lock:
            if self.cuts:
                return False
            self.cuts = 1
            return True

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
        # What is coming back on this connection: whether a blob, and how much of it so far.
        # (A client sends its next request only once it has read the answer before.)
        answer = {"blob": False, "sent": 0}

        def watch(data: bytes) -> tuple[bytes, bool]:
            if data.startswith(b"GET ") and b"/blobs/" in data.split(b"\r\n", 1)[0]:
                with self._lock:
                    self.blob_gets += 1
                    self.range_gets += b"\r\nrange: " in data.lower()
                answer.update(blob=True, sent=0)
            return data, False

        def cut(data: bytes) -> tuple[bytes, bool]:
            if answer["blob"]:
                answer["sent"] += len(data)
                over = answer["sent"] - self.cut_after
                if over > 0 and self._first_cut():  # headers and `cut_after` bytes, about
                    return data[: len(data) - over], True
            return data, False

        _start(client, upstream, watch)
        _start(upstream, client, cut)


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
