"""The userland proxy, docker-proxy's job: a published port on the host's loopback relayed to
the container's IPv4 address, for TCP and UDP alike. On [::1] the kernel cannot serve it
(IPv6 has no route_localnet, so DNAT from ::1 to a container cannot be routed); on 127.0.0.1
it could, but that translation carried about half (0.45 to 0.54) of a direct connection's
request rate in bench/network's setup, where this proxy carried 0.83.

Each proxy is a process of its own running this file (porterd.network.proxy_process starts
it at `main`), so this module imports only the standard library. It serves its port on epoll
sets, by a few threads for TCP and one for UDP. TCP: its connections are relayed with
non-blocking sockets and TCP_NODELAY (no thread started per connection; a threaded relay
without TCP_NODELAY reached 0.04 of a direct connection's request rate in bench/network, this
one 0.72 to 1.1 on a busy two-core host, docker-proxy 0.79 beside it). Most of its cost is
the kernel's, for the second connection: about 120 us of CPU per request, three quarters of
it in system calls. UDP: each client address gets a socket of its own towards the container
(so the container sees one peer per client, and its answers go back to the client that
asked), dropped after UDP_IDLE seconds without traffic, as docker-proxy does.
"""

from __future__ import annotations

import abc
import contextlib
import errno
import functools
import logging
import os
import select
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("porterd.network.proxy")
CHUNK = 64 * 1024
UDP_IDLE = 90.0  # docker-proxy's UDPConnTrackTimeout
UDP_SWEEP = 5.0  # how often idle UDP flows are looked for
DATAGRAM = 65535
Address = tuple[Any, ...]  # a client's (host, port, flowinfo, scope_id)
Flow = tuple[socket.socket, list[float]]  # its socket towards the container, when last used


def loopback6_listener(port: int, protocol: str = "tcp") -> socket.socket | None:
    """A socket bound (and, for TCP, listening) on [::1]:port, or None where the host has
    no IPv6 loopback; OSError when another socket holds the port there."""
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    listener = socket.socket(socket.AF_INET6, kind)
    try:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("::1", port))
        if kind == socket.SOCK_STREAM:
            listener.listen(socket.SOMAXCONN)
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise
        return None
    return listener


class LoopbackProxy(abc.ABC):
    """Relays what reaches `listener` to `target`; `close` stops it."""

    threads = 1  # serving the listener at once

    def __init__(self, listener: socket.socket, target: tuple[str, int]) -> None:
        self.listener = listener
        self.target = target
        self._closed = threading.Event()
        for _ in range(self.threads):
            threading.Thread(target=self._serve, name="porterd-proxy", daemon=True).start()

    @abc.abstractmethod
    def _serve(self) -> None:
        """Relay until closed."""

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


class TcpProxy(LoopbackProxy):
    """Every connection of the port relayed on one of the port's threads, over epoll directly
    (each event costs a few Python calls: a request is a handful of events), each socket
    woken only for what it can do."""

    # Most of a relay's time is spent in send, recv, accept and connect, which let go of the
    # GIL: threads of their own (each on its own epoll set, the listener woken in one of
    # them at a time) let that work go on side by side on a host with several cores.
    threads = min(4, max(2, os.cpu_count() or 1))

    def _serve(self) -> None:
        self.listener.setblocking(False)
        listening = self.listener.fileno()
        poller = select.epoll()
        handlers: dict[int, Callable[[int], None]] = {}
        relays: set[_TcpRelay] = set()
        poller.register(listening, select.EPOLLIN | select.EPOLLEXCLUSIVE)
        try:
            while not self._closed.is_set():
                for fd, events in poller.poll(1.0):
                    if fd == listening:
                        self._accept(poller, handlers, relays)
                    elif (handler := handlers.get(fd)) is not None:
                        handler(events)
        except OSError as error:  # the listener closed under the poll
            log.debug("proxy on %s: %s", self.target, error)
        finally:
            for relay in list(relays):
                relay.close()
            poller.close()

    def _accept(
        self,
        poller: select.epoll,
        handlers: dict[int, Callable[[int], None]],
        relays: set[_TcpRelay],
    ) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # none waiting (EAGAIN), or the listener closed
                return
            relays.add(_TcpRelay(poller, handlers, relays, client, self.target))


READABLE = select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR
WRITABLE = select.EPOLLOUT | select.EPOLLHUP | select.EPOLLERR


class _TcpRelay:
    """One client's connection and the proxy's own towards the container. A socket is read
    only while its peer has taken everything read before (so a slow reader slows its writer
    instead of filling the proxy's memory) and watched for writing only while it has bytes
    waiting (or, towards the container, until it is connected); an end of stream is passed on
    as a shutdown of writing."""

    def __init__(
        self,
        poller: select.epoll,
        handlers: dict[int, Callable[[int], None]],
        relays: set[_TcpRelay],
        client: socket.socket,
        target: tuple[str, int],
    ) -> None:
        self.poller, self.handlers, self.relays = poller, handlers, relays
        self.client = client
        self.upstream = upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.peer = {client: upstream, upstream: client}
        self.fds = {client: client.fileno(), upstream: upstream.fileno()}
        self.waiting = {client: b"", upstream: b""}  # read from its peer, not yet written to it
        self.ended = {client: False, upstream: False}  # it sent its end of stream
        self.watched = {client: 0, upstream: 0}  # the events epoll has for it
        for side in (client, upstream):
            side.setblocking(False)
            side.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small writes now
            handlers[self.fds[side]] = functools.partial(self.handle, side)
        error = upstream.connect_ex(target)
        self.connected = error == 0
        if error not in (0, errno.EINPROGRESS):
            log.debug("proxy to %s:%s: %s", *target, os.strerror(error))
            self.close()
            return
        self._update()

    def handle(self, side: socket.socket, events: int) -> None:
        try:
            if side is self.upstream and not self.connected:
                error = side.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    raise OSError(error, os.strerror(error))
                self.connected = True
            if events & WRITABLE and self.waiting[side]:
                self._write(side)
            if events & READABLE and self.watched[side] & select.EPOLLIN:
                self._read(side)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as error:
            log.debug("proxy connection: %s", error)
            self.close()
            return
        if all(self.ended.values()) and not any(self.waiting.values()):
            self.close()
            return
        self._update()

    def _read(self, source: socket.socket) -> None:
        sink = self.peer[source]
        data = source.recv(CHUNK)
        if not data:
            self.ended[source] = True
            sink.shutdown(socket.SHUT_WR)
            return
        self.waiting[sink] = data
        if self.connected:
            self._write(sink)

    def _write(self, sink: socket.socket) -> None:
        sent = sink.send(self.waiting[sink])
        self.waiting[sink] = self.waiting[sink][sent:]

    def _update(self) -> None:
        client, upstream = self.client, self.upstream
        for side in (client, upstream):
            wants = select.EPOLLOUT if self.waiting[side] else 0
            if not self.ended[side] and not self.waiting[self.peer[side]]:
                wants |= select.EPOLLIN
            if side is upstream and not self.connected:
                wants = select.EPOLLOUT  # its connection's outcome first
            if wants != self.watched[side]:
                fd = self.fds[side]
                if not self.watched[side]:
                    self.poller.register(fd, wants)
                elif not wants:
                    self.poller.unregister(fd)
                else:
                    self.poller.modify(fd, wants)
                self.watched[side] = wants

    def close(self) -> None:
        for side, fd in self.fds.items():
            if self.watched[side]:
                with contextlib.suppress(OSError):
                    self.poller.unregister(fd)
                self.watched[side] = 0
            self.handlers.pop(fd, None)
            side.close()
        self.relays.discard(self)


class UdpProxy(LoopbackProxy):
    def _serve(self) -> None:
        flows: dict[Address, Flow] = {}
        sweep = time.monotonic() + UDP_SWEEP
        with selectors.DefaultSelector() as selector:
            selector.register(self.listener, selectors.EVENT_READ)
            try:
                while not self._closed.is_set():
                    for key, _ in selector.select(timeout=1.0):
                        if key.fileobj is self.listener:
                            self._forward(selector, flows)
                        else:
                            self._answer(key.fileobj, key.data)  # type: ignore[arg-type]
                    if time.monotonic() >= sweep:  # not on every datagram: flows can be many
                        self._expire(selector, flows)
                        sweep = time.monotonic() + UDP_SWEEP
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


def loopback_proxy(
    protocol: str, listener: socket.socket, target: tuple[str, int]
) -> LoopbackProxy:
    """A proxy relaying what reaches `listener` (bound, and for TCP listening) to `target`."""
    return (UdpProxy if protocol == "udp" else TcpProxy)(listener, target)


def main(argv: list[str]) -> int:
    """`proxy.py tcp|udp HOST PORT FD...`: relay what reaches the sockets FD (inherited) to
    HOST:PORT until standard input ends (porterd.network.proxy_process starts it)."""
    protocol, host, port, *fds = argv
    target = (host, int(port))
    relays = [loopback_proxy(protocol, socket.socket(fileno=int(fd)), target) for fd in fds]
    while os.read(0, 4096):  # porterd holds the other end: it ends when porterd ends
        pass
    for relay in relays:
        relay.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
