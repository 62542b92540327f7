"""Progress of long transfers (import, unpack, repack) on stderr, only when someone watches.

The layer functions stream through file objects, so progress is measured by wrapping those
streams (`CountingReader`, `CountingWriter`) rather than by callbacks inside the layer code.
"""

from __future__ import annotations

import sys
import time
from typing import Any, BinaryIO, TextIO, cast


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class Progress:
    """A one-line byte counter, redrawn at most ten times a second."""

    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.label = ""
        self.total: int | None = None
        self.done = 0
        self._drawn = 0.0

    @classmethod
    def auto(cls, forced: bool | None) -> Progress:
        """On when forced, else when stderr is a terminal."""
        return cls(sys.stderr.isatty() if forced is None else forced)

    def start(self, label: str, total: int | None = None) -> None:
        self.label, self.total, self.done = label, total, 0
        self._draw(force=True)

    def advance(self, n: int) -> None:
        self.done += n
        self._draw()

    def finish(self) -> None:
        self._draw(force=True)
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        total = f" / {human_size(self.total)}" if self.total else ""
        self.stream.write(f"\r{self.label}: {human_size(self.done)}{total}\x1b[K")
        self.stream.flush()


def counting_reader(stream: Any, progress: Progress) -> BinaryIO:
    """`stream`, reporting bytes read to `progress` (typed as the file the layer code takes)."""
    return cast(BinaryIO, CountingReader(stream, progress))


def counting_writer(stream: Any, progress: Progress) -> BinaryIO:
    """`stream`, reporting bytes written to `progress`."""
    return cast(BinaryIO, CountingWriter(stream, progress))


class CountingReader:
    """A read-only stream wrapper reporting bytes read to a Progress."""

    def __init__(self, stream: Any, progress: Progress) -> None:
        self._stream = stream
        self._progress = progress

    def read(self, n: int = -1) -> bytes:
        chunk = self._stream.read(n)
        self._progress.advance(len(chunk))
        return chunk

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()


class CountingWriter:
    """A write-only stream wrapper reporting bytes written to a Progress."""

    def __init__(self, stream: Any, progress: Progress) -> None:
        self._stream = stream
        self._progress = progress

    def write(self, chunk: bytes) -> int:
        self._progress.advance(len(chunk))
        return self._stream.write(chunk)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self._stream.flush()

    def tell(self) -> int:
        return self._stream.tell()
