"""The userland proxy, docker-proxy's job where the kernel path cannot serve: a published port
on the host's IPv6 loopback ([::1]; IPv6 has no route_localnet, so DNAT from ::1 to a
container cannot be routed) relayed to the container's IPv4 address, for TCP and UDP alike.

TCP: one thread accepts; each connection is relayed by a thread of its own until either side
closes. UDP: one thread serves the port; each client address gets a socket of its own towards
the container (so the container sees one peer per client, and its answers go back to the
client that asked), dropped after UDP_IDLE seconds without traffic, as docker-proxy does.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import selectors
import socket
import threading
import time
from typing import Any

log = logging.getLogger("porterd.network.proxy")
CHUNK = 64 * 1024
UDP_IDLE = 90.0  # docker-proxy's UDPConnTrackTimeout
DATAGRAM = 65535
Address = tuple[Any, ...]  # a client's (host, port, flowinfo, scope_id)
Flow = tuple[socket.socket, list[float]]  # its socket towards the container, when last used


def loopback6_listener(port: int, protocol: str = "tcp") -> socket.socket | None:
    """A socket bound (and, for TCP, listening) on [::1]:port, or None where the host has
    no IPv6 loopback."""
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    listener = socket.socket(socket.AF_INET6, kind)
    try:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("::1", port))
        if kind == socket.SOCK_STREAM:
            listener.listen(128)
    except OSError:
        listener.close()
        return None
    return listener


class LoopbackProxy(abc.ABC):
    """Relays what reaches `listener` to `target`; `close` stops it."""

    def __init__(self, listener: socket.socket, target: tuple[str, int]) -> None:
        self.listener = listener
        self.target = target
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="porterd-proxy", daemon=True)
        self._thread.start()

    @abc.abstractmethod
    def _serve(self) -> None:
        """Relay until closed."""

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


class TcpProxy(LoopbackProxy):
    def _serve(self) -> None:
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


class UdpProxy(LoopbackProxy):
    def _serve(self) -> None:
        flows: dict[Address, Flow] = {}
        with selectors.DefaultSelector() as selector:
            selector.register(self.listener, selectors.EVENT_READ)
            try:
                while not self._closed.is_set():
                    for key, _ in selector.select(timeout=1.0):
                        if key.fileobj is self.listener:
                            self._forward(selector, flows)
                        else:
                            self._answer(key.fileobj, key.data)  # type: ignore[arg-type]
                    self._expire(selector, flows)
            finally:
                for upstream, _ in flows.values():
                    upstream.close()

    def _forward(self, selector: selectors.BaseSelector, flows: dict[Address, Flow]) -> None:
        """A client's datagram, sent on to the container from that client's own socket."""
        try:
            data, client = self.listener.recvfrom(DATAGRAM)
        except OSError:
            return
        flow = flows.get(client)
        if flow is None:
            upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                upstream.connect(self.target)
            except OSError as error:
                log.debug("proxy to %s:%s: %s", *self.target, error)
                upstream.close()
                return
            flow = flows[client] = (upstream, [0.0])
            selector.register(upstream, selectors.EVENT_READ, (client, flow[1]))
        flow[1][0] = time.monotonic()
        with contextlib.suppress(OSError):  # refused or dropped: UDP promises nothing
            flow[0].send(data)

    def _answer(self, upstream: socket.socket, flow: tuple[Address, list[float]]) -> None:
        """The container's answer, sent back to the client it belongs to."""
        client, seen = flow
        try:
            data = upstream.recv(DATAGRAM)
        except OSError:
            return  # an ICMP error of an earlier datagram: nothing to relay
        seen[0] = time.monotonic()
        with contextlib.suppress(OSError):
            self.listener.sendto(data, client)

    def _expire(self, selector: selectors.BaseSelector, flows: dict[Address, Flow]) -> None:
        idle = time.monotonic() - UDP_IDLE
        for client, (upstream, seen) in list(flows.items()):
            if seen[0] < idle:
                selector.unregister(upstream)
                upstream.close()
                del flows[client]


def loopback_proxy(protocol: str, port: int, target: tuple[str, int]) -> LoopbackProxy | None:
    """A proxy from [::1]:port to `target` for `protocol`, or None where [::1] is missing."""
    listener = loopback6_listener(port, protocol)
    if listener is None:
        return None
    return (UdpProxy if protocol == "udp" else TcpProxy)(listener, target)
