"""The embedded DNS server: dockerd's 127.0.0.11 inside each container on a user network.

For each such container, a UDP and a TCP socket are bound on 127.0.0.11:53 inside its
network namespace (made by a short-lived thread that enters the namespace: a socket stays in
the namespace it was made in). One thread in porterd's own namespace serves them all: names,
aliases and short ids of containers on the same networks are answered (A and AAAA, every
address in shuffled order: round robin); every other question is forwarded to the host's
resolvers from porterd's namespace, as dockerd does.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import logging
import os
import random
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from porterd.network.etcfiles import EMBEDDED_DNS, ResolvConf

log = logging.getLogger("porterd.network.dns")

CLONE_NEWNET = 0x40000000
TYPE_A, TYPE_AAAA = 1, 28
RCODE_SERVFAIL, RCODE_NXDOMAIN = 2, 3
TTL = 600
FORWARD_TIMEOUT = 2.0


def _enter(netns: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {netns}")
    finally:
        os.close(fd)


def sockets_in(netns: Path, address: str = EMBEDDED_DNS, port: int = 53) -> list[socket.socket]:
    """A UDP and a listening TCP socket on `address:port` inside the namespace at `netns`."""
    made: list[socket.socket] = []
    failure: list[BaseException] = []

    def make() -> None:
        try:
            _enter(netns)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            made.append(udp)
            udp.bind((address, port))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            made.append(tcp)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((address, port))
            tcp.listen(16)
        except BaseException as error:  # reported to the caller's thread
            failure.append(error)

    thread = threading.Thread(target=make, name="porterd-dns-setns")
    thread.start()
    thread.join()
    if failure:
        for made_socket in made:
            made_socket.close()
        raise failure[0]
    return made


def parse_question(message: bytes) -> tuple[str, int, int]:
    """(name, type, end offset of the question) of a query's first question."""
    offset, labels = 12, []
    while True:
        length = message[offset]
        offset += 1
        if length == 0:
            break
        if length & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(message[offset : offset + length].decode("ascii", "replace"))
        offset += length
    qtype, _ = struct.unpack("!HH", message[offset : offset + 4])
    return ".".join(labels), qtype, offset + 4


def answer(query: bytes, addresses: list[str]) -> bytes:
    """A reply to `query` with A/AAAA records for the addresses of its question's type."""
    _name, qtype, end = parse_question(query)
    (ident, flags) = struct.unpack("!HH", query[:4])
    family = 4 if qtype == TYPE_A else 6 if qtype == TYPE_AAAA else 0
    records = [ipaddress.ip_address(a) for a in addresses]
    chosen = [r for r in records if r.version == family]
    random.shuffle(chosen)
    body = b"".join(
        struct.pack("!HHHIH", 0xC00C, qtype, 1, TTL, len(r.packed)) + r.packed for r in chosen
    )
    reply_flags = 0x8000 | (flags & 0x0100) | 0x0080 | 0x0400  # QR, RD copied, RA, AA
    header = struct.pack("!HHHHHH", ident, reply_flags, 1, len(chosen), 0, 0)
    return header + query[12:end] + body


def error_reply(query: bytes, rcode: int) -> bytes:
    ident, flags = struct.unpack("!HH", query[:4])
    _, _, end = parse_question(query)
    header = struct.pack("!HHHHHH", ident, 0x8000 | (flags & 0x0100) | 0x0080 | rcode, 1, 0, 0, 0)
    return header + query[12:end]


class EmbeddedDns:
    def __init__(
        self,
        lookup: Callable[[str, str], list[str]],
        upstream: Callable[[str], ResolvConf],
    ) -> None:
        self.lookup = lookup
        self.upstream = upstream
        self._selector = selectors.DefaultSelector()
        self._sockets: dict[str, list[socket.socket]] = {}
        self._lock = threading.Lock()
        self._workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="porterd-dns")
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="porterd-dns", daemon=True)
        self._thread.start()

    def serve(self, container_id: str, netns: Path) -> None:
        with self._lock:
            if container_id in self._sockets:
                return
            made = sockets_in(netns)
            self._sockets[container_id] = made
            for made_socket in made:
                made_socket.setblocking(False)
                self._selector.register(made_socket, selectors.EVENT_READ, container_id)
        self._wake_w.send(b"x")

    def stop(self, container_id: str) -> None:
        with self._lock:
            for made_socket in self._sockets.pop(container_id, []):
                self._selector.unregister(made_socket)
                made_socket.close()
        self._wake_w.send(b"x")

    def serving(self) -> set[str]:
        with self._lock:
            return set(self._sockets)

    def _loop(self) -> None:
        while not self._closed:
            with self._lock:
                pass  # a serve/stop in progress finishes before the selector is read
            for key, _ in self._selector.select(timeout=1.0):
                if key.data is None:
                    self._wake_r.recv(4096)
                    continue
                try:
                    self._ready(key.fileobj, key.data)  # type: ignore[arg-type]
                except OSError as error:
                    log.debug("dns socket of %s: %s", key.data, error)

    def _ready(self, ready: socket.socket, container_id: str) -> None:
        if ready.type == socket.SOCK_DGRAM:
            query, peer = ready.recvfrom(4096)
            self._workers.submit(self._udp, ready, query, peer, container_id)
        else:
            connection, _ = ready.accept()
            self._workers.submit(self._tcp, connection, container_id)

    def _udp(self, reply_to: socket.socket, query: bytes, peer: object, container_id: str) -> None:
        reply = self.resolve(query, container_id)
        if reply:
            with contextlib.suppress(OSError):
                reply_to.sendto(reply, peer)

    def _tcp(self, connection: socket.socket, container_id: str) -> None:
        with connection:
            connection.setblocking(True)
            connection.settimeout(FORWARD_TIMEOUT * 2)
            try:
                head = connection.recv(2)
                if len(head) < 2:
                    return
                (length,) = struct.unpack("!H", head)
                query = b""
                while len(query) < length:
                    chunk = connection.recv(length - len(query))
                    if not chunk:
                        return
                    query += chunk
                reply = self.resolve(query, container_id)
                if reply:
                    connection.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                return

    def resolve(self, query: bytes, container_id: str) -> bytes:
        try:
            name, _qtype, _ = parse_question(query)
        except (ValueError, IndexError, struct.error):
            return b""
        try:
            addresses = self.lookup(container_id, name)
        except Exception as error:  # a question is always answered, SERVFAIL at worst
            log.warning("dns: looking %s up for %s: %s", name, container_id[:12], error)
            addresses = []
        if addresses:
            return answer(query, addresses)
        return self.forward(query, container_id) or error_reply(query, RCODE_SERVFAIL)

    def forward(self, query: bytes, container_id: str) -> bytes:
        """The answer of the first of the container's resolvers that gives one."""
        for server in self.upstream(container_id).external():
            family = socket.AF_INET6 if ":" in server else socket.AF_INET
            with socket.socket(family, socket.SOCK_DGRAM) as upstream:
                upstream.settimeout(FORWARD_TIMEOUT)
                try:
                    upstream.sendto(query, (server, 53))
                    reply = upstream.recv(65535)
                except OSError:
                    continue
                if reply[:2] == query[:2]:
                    return reply
        return b""

    def close(self) -> None:
        self._closed = True
        with self._lock:
            for container_id in list(self._sockets):
                for made_socket in self._sockets.pop(container_id):
                    made_socket.close()
        self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        self._workers.shutdown(wait=False)
        self._wake_r.close()
        self._wake_w.close()
