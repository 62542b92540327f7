"""The local terminal during attach, run -it and exec -it: raw mode, the window size sent to
the daemon (now and on SIGWINCH), the detach keys (ctrl-p ctrl-q), and the copying of both
directions of a hijacked stream."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

from porter_cli.client.hijack import HijackedStream
from porter_cli.errors import CliError

DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"


def parse_detach_keys(spec: str) -> bytes:
    """ "ctrl-p,ctrl-q" -> b"\\x10\\x11"; single characters stand for themselves."""
    keys = bytearray()
    for part in spec.split(","):
        part = part.strip()
        if len(part) == 1:
            keys.append(ord(part))
        elif part.startswith("ctrl-") and len(part) == 6:
            char = part[5]
            codes = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}
            if char.isalpha():
                keys.append(ord(char.lower()) - ord("a") + 1)
            elif char in codes:
                keys.append(codes[char])
            else:
                raise CliError(f"invalid detach keys {spec!r}: unknown key {part!r}", 125)
        else:
            raise CliError(f"invalid detach keys {spec!r}: unknown key {part!r}", 125)
    if not keys:
        raise CliError(f"invalid detach keys {spec!r}", 125)
    return bytes(keys)


class DetachScanner:
    """Finds the detach sequence in typed input; bytes that may start it are held back
    until the next key shows whether it was the sequence."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to forward, whether the sequence was typed)."""
        out = bytearray()
        for byte in data:
            self.held += bytes([byte])
            if self.keys.startswith(self.held):
                if self.held == self.keys:
                    self.held = b""
                    return bytes(out), True
                continue
            out += self.held[:-1]
            last = self.held[-1:]
            if self.keys.startswith(last):
                self.held = last
            else:
                out += last
                self.held = b""
        return bytes(out), False


@contextlib.contextmanager
def raw_mode(enabled: bool) -> Iterator[None]:
    """Put stdin in raw mode (when it is a terminal) and restore it afterwards."""
    if not enabled or not sys.stdin.isatty():
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)  # not TCSAFLUSH: keys typed ahead stay
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def window_size() -> tuple[int, int] | None:
    """(height, width) of the terminal on stdout (or stdin), None without one."""
    for stream in (sys.stdout, sys.stdin):
        try:
            size = os.get_terminal_size(stream.fileno())
        except (OSError, ValueError):
            continue
        return size.lines, size.columns
    return None


@contextlib.contextmanager
def follow_window(resize: Callable[[int, int], None], enabled: bool) -> Iterator[None]:
    """Send the window size now and again on every SIGWINCH."""
    if not enabled or window_size() is None:
        yield
        return

    def send(*_: object) -> None:
        size = window_size()
        if size:
            with contextlib.suppress(Exception):
                resize(*size)

    previous = signal.signal(signal.SIGWINCH, send)
    try:
        send()
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)


def copy_output(stream: HijackedStream, tty: bool) -> None:
    """The container's output to stdout/stderr until the stream ends: raw with a TTY,
    demultiplexed without."""
    from porter_cli.client.stream import STDERR, demux

    out = sys.stdout.buffer
    if tty:
        while chunk := stream.recv():
            out.write(chunk)
            out.flush()
        return
    err = sys.stderr.buffer
    for kind, payload in demux(stream.read):
        target = err if kind == STDERR else out
        target.write(payload)
        target.flush()


# How long the daemon has to end the stream itself after the detach keys went to it.
DETACH_GRACE = 2.0


class InputPump(threading.Thread):
    """Copies stdin into the stream; stops at EOF (half-closing the stream) or at the
    detach keys. Those are sent on, as docker does, so that the daemon detaches (leaving the
    container's stdin open); a daemon that does not end the stream within DETACH_GRACE has
    it shut down here."""

    def __init__(self, stream: HijackedStream, detach_keys: bytes | None) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.scanner = DetachScanner(detach_keys) if detach_keys else None
        self.detached = threading.Event()

    def run(self) -> None:
        fd = sys.stdin.fileno()
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                self.stream.close_write()
                return
            forward, detach = self.scanner.feed(data) if self.scanner else (data, False)
            if detach and self.scanner is not None:
                forward += self.scanner.keys
            try:
                if forward:
                    self.stream.send(forward)
            except OSError:
                return
            if detach:
                self.detached.set()
                time.sleep(DETACH_GRACE)
                self.stream.shutdown()
                return


def pump(stream: HijackedStream, tty: bool, stdin: bool, detach_keys: bytes | None) -> bool:
    """Copy both ways until the output ends; True when the user detached."""
    pump_in = None
    if stdin:
        pump_in = InputPump(stream, detach_keys)
        pump_in.start()
    try:
        copy_output(stream, tty)
    finally:
        stream.close()
    return pump_in is not None and pump_in.detached.is_set()
