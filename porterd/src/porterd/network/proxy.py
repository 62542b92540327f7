"""The userland proxy, docker-proxy's job where the kernel path cannot serve: a published TCP
port on the host's IPv6 loopback ([::1]; IPv6 has no route_localnet, so DNAT from ::1 to a
container cannot be routed) relayed to the container's IPv4 address. One thread accepts; each
connection is relayed by a thread of its own until either side closes."""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading

log = logging.getLogger("porterd.network.proxy")
CHUNK = 64 * 1024


def loopback6_listener(port: int) -> socket.socket | None:
    """A listening socket on [::1]:port, or None where the host has no IPv6 loopback."""
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("::1", port))
        listener.listen(128)
    except OSError:
        listener.close()
        return None
    return listener


class LoopbackProxy:
    def __init__(self, listener: socket.socket, target: tuple[str, int]) -> None:
        self.listener = listener
        self.target = target
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="porterd-proxy", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError as error:
            log.debug("proxy to %s:%s: %s", *self.target, error)
            client.close()
            return
        upstream.settimeout(None)
        with client, upstream, selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            open_sides = 2
            while open_sides and not self._closed.is_set():
                for key, _ in selector.select(timeout=1.0):
                    source, sink = key.fileobj, key.data
                    try:
                        data = source.recv(CHUNK)  # type: ignore[union-attr]
                        if data:
                            sink.sendall(data)
                            continue
                        sink.shutdown(socket.SHUT_WR)
                    except OSError:
                        return
                    selector.unregister(source)
                    open_sides -= 1

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
