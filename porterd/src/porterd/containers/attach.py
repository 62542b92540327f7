"""Streams between an API client's hijacked connection and conmon's attach socket.

conmon sends output as SOCK_SEQPACKET packets whose first byte says the stream (2 stdout,
3 stderr); without a terminal each chunk goes to the client in the 8-byte framed form
(`porterd.containers.framing`), with one raw. What the client sends is the container's stdin;
the detach keys (ctrl-p ctrl-q unless the client says otherwise) end the attach and leave the
container running. When the client ends its stdin and the container's stdin is "once", the
container's stdin is closed (conmon does that when the attach socket's write side is shut).

A client that attaches to a created container (`docker run` attaches before it starts) waits
at a gate, where it takes its place before its attach is answered; `start` opens the gate once
conmon's socket exists and waits for the waiting clients to connect before it starts the
process. Such a client (and an exec's) receives the output from conmon's log rather than the
socket, until conmon is gone: conmon accepts connections only once it reaches its main loop,
which a process that ends within milliseconds can beat, and conmon writes the exit file before
the last output reaches the log, so only conmon's end says the output is complete.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from porterd.containers.conmon import ATTACH_STDERR, ATTACH_STDOUT
from porterd.containers.file_wake import WakeEvent
from porterd.containers.framing import STDERR, STDOUT, frame
from porterd.containers.logs import ConmonLogTail
from porterd.errors import InvalidParameter

DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p ctrl-q
PACKET = 8192  # conmon reads stdin in buffers of this size
CONNECT_GRACE = 5.0


def parse_detach_keys(spec: str | None) -> bytes:
    """docker's `--detach-keys`: a comma-separated list of `ctrl-X` and single characters."""
    if not spec:
        return DEFAULT_DETACH_KEYS
    keys = bytearray()
    for part in spec.split(","):
        if part.startswith("ctrl-") and len(part) == 6:
            char = part[5]
            if char.isalpha():
                keys.append(ord(char.lower()) - ord("a") + 1)
            elif char in "@[\\]^_":
                keys.append(ord(char) - ord("@"))
            else:
                raise InvalidParameter(f"Invalid escape keys ({spec}) provided")
        elif len(part) == 1:
            keys.append(ord(part))
        else:
            raise InvalidParameter(f"Invalid escape keys ({spec}) provided")
    return bytes(keys)


class DetachScanner:
    """Passes stdin through, holding back a possible start of the detach sequence."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self._held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to forward, whether the client typed the detach keys)."""
        if not self.keys:
            return data, False
        out = bytearray()
        for byte in data:
            self._held += bytes([byte])
            if self.keys.startswith(self._held):
                if self._held == self.keys:
                    self._held = b""
                    return bytes(out), True
                continue
            if self.keys.startswith(bytes([byte])):
                out += self._held[:-1]
                self._held = bytes([byte])
            else:
                out += self._held
                self._held = b""
        return bytes(out), False


@dataclass(frozen=True)
class AttachStreams:
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool
    stdin_once: bool = True
    detach_keys: bytes = DEFAULT_DETACH_KEYS


def connect(path: Path) -> socket.socket:
    """A connection to conmon's attach socket, however long its path."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    folder = os.open(path.parent, os.O_PATH | os.O_CLOEXEC)
    try:
        sock.connect(f"/proc/self/fd/{folder}/{path.name}")
    except OSError:
        sock.close()
        raise
    finally:
        os.close(folder)
    return sock


def entry_chunk(stream: str, data: bytes, streams: AttachStreams) -> bytes:
    """What the client receives for output of `stream` ("stdout" or "stderr")."""
    kind = ATTACH_STDOUT if stream == "stdout" else ATTACH_STDERR
    return output_chunk(bytes([kind]) + data, streams)


def logged_output(
    tail: ConmonLogTail, ended: Callable[[], bool], streams: AttachStreams, conmon_pid: int
) -> Callable[[threading.Event], Iterator[bytes]]:
    """`bridge`'s `output` from conmon's log, until `ended()` says conmon (`conmon_pid`) is
    gone."""

    def output(done: threading.Event) -> Iterator[bytes]:
        for entry in tail.follow(ended, done, conmon_pid):
            chunk = entry_chunk(entry.stream, entry.log, streams)
            if chunk:
                yield chunk

    return output


def output_chunk(packet: bytes, streams: AttachStreams) -> bytes:
    """What the client receives for one packet from conmon (b"" for an unwanted stream)."""
    if not packet:
        return b""
    kind, data = packet[0], packet[1:]
    if kind == ATTACH_STDOUT and streams.stdout:
        return data if streams.tty else frame(STDOUT, data)
    if kind == ATTACH_STDERR and streams.stderr:
        return data if streams.tty else frame(STDERR, data)
    return b""


def bridge(
    client: socket.socket,
    conmon: socket.socket,
    streams: AttachStreams,
    before_close: Callable[[], None] | None = None,
    output: Callable[[threading.Event], Iterator[bytes]] | None = None,
) -> None:
    """Copy both ways until the container's output ends, the client goes or detaches;
    `before_close` runs before the client's connection is closed (an exec's exit code).

    `output` (an exec's log as conmon writes it) replaces the socket's packets as what the
    client receives; the socket's are then read and dropped, so conmon never blocks on them.
    """
    done = WakeEvent()  # set: the output's tail wakes at once
    if streams.stdin:
        threading.Thread(
            target=_copy_stdin, args=(client, conmon, streams, done), daemon=True
        ).start()
    if output is not None:
        threading.Thread(target=_drain, args=(conmon, done), daemon=True).start()
    chunks = output(done) if output is not None else _socket_chunks(conmon, streams, done)
    try:
        for chunk in chunks:
            if done.is_set():
                break
            client.sendall(chunk)
    except OSError:
        pass
    finally:
        done.set()
        with contextlib.suppress(OSError):
            conmon.shutdown(socket.SHUT_RDWR)
        conmon.close()
        if before_close is not None:
            before_close()
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)
        client.close()


def _socket_chunks(
    conmon: socket.socket, streams: AttachStreams, done: threading.Event
) -> Iterator[bytes]:
    while not done.is_set():
        packet = conmon.recv(PACKET + 1)
        if not packet:
            return
        chunk = output_chunk(packet, streams)
        if chunk:
            yield chunk


def _drain(conmon: socket.socket, done: threading.Event) -> None:
    with contextlib.suppress(OSError):
        while not done.is_set() and conmon.recv(PACKET + 1):
            continue


def _copy_stdin(
    client: socket.socket, conmon: socket.socket, streams: AttachStreams, done: threading.Event
) -> None:
    scanner = DetachScanner(streams.detach_keys)
    try:
        while not done.is_set():
            data = client.recv(PACKET)
            if not data:
                if streams.stdin_once:
                    conmon.shutdown(socket.SHUT_WR)
                return
            forward, detached = scanner.feed(data)
            for start in range(0, len(forward), PACKET):
                conmon.sendall(forward[start : start + PACKET])
            if detached:
                done.set()
                with contextlib.suppress(OSError):
                    conmon.shutdown(socket.SHUT_RDWR)  # wakes the output side
                return
    except OSError:
        return


@dataclass
class Waiter:
    """One client's place at a container's gate, taken before its attach is answered."""

    container_id: str
    ready: threading.Event = field(default_factory=threading.Event)
    connected: threading.Event = field(default_factory=threading.Event)
    path: Path | None = None


class AttachGates:
    """Clients waiting for a container to start so that they can attach to it.

    A client takes its place (`enroll`) before the API answers its attach: the docker CLI
    sends `start` as soon as it has the answer, and a start that found nobody at the gate
    would run the process before the client connects to conmon, losing what it printed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[Waiter]] = {}

    def pending(self, container_id: str) -> bool:
        with self._lock:
            return bool(self._waiting.get(container_id))

    def enroll(self, container_id: str) -> Waiter:
        waiter = Waiter(container_id)
        with self._lock:
            self._waiting.setdefault(container_id, []).append(waiter)
        return waiter

    def wait(self, waiter: Waiter, gone: Callable[[], bool]) -> Path | None:
        """Block until the container starts (conmon's socket) or closes (None), or `gone()`."""
        try:
            while not waiter.ready.wait(0.5):
                if gone():
                    return None
            return waiter.path
        finally:
            self._remove(waiter)

    def leave(self, waiter: Waiter) -> None:
        """The client connected to conmon, went, or its attach failed: `open` goes on."""
        self._remove(waiter)
        waiter.connected.set()

    def _remove(self, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiting.get(waiter.container_id, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiting.pop(waiter.container_id, None)

    def open(self, container_id: str, path: Path) -> None:
        """The attach socket exists: let the waiting clients connect, then return."""
        with self._lock:
            waiters = self._waiting.pop(container_id, [])
        for waiter in waiters:
            waiter.path = path
            waiter.ready.set()
        for waiter in waiters:
            waiter.connected.wait(CONNECT_GRACE)

    def close(self, container_id: str) -> None:
        with self._lock:
            waiters = self._waiting.pop(container_id, [])
        for waiter in waiters:
            waiter.ready.set()
            waiter.connected.set()
