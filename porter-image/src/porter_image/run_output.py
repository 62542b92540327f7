"""RUN output read line by line: a pipe the RUN steps write to (BuildOptions.output), read by
a thread that hands each line to a function, as porterd's build stream and the command's
`--progress json` and `-q` need it.

The lines handed over depend only on the bytes written, never on how the pipe's reads cut
them: a line longer than LINE is handed over in pieces cut at a character's start, and a
line written with `write_line` (a build's step lines, written into the same pipe to keep their
place) always starts a line of its own, even after output that had no newline: it goes after a
mark, which the reader never cuts apart and takes off again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

LINE = 1 << 16  # longer lines are handed over in pieces of this size, so memory stays bounded
READ = 1 << 16


class LineSplitter:
    """Bytes fed in any pieces, lines out (without their newline), decoded as UTF-8."""

    def __init__(self, mark: bytes = b"", limit: int = LINE) -> None:
        self.mark = mark  # holds no newline
        self.limit = limit
        self._pending = bytearray()

    def feed(self, data: bytes) -> Iterator[str]:
        self._pending += data
        return self._lines(final=False)

    def end(self) -> Iterator[str]:
        """The lines still held: the last one, which had no newline."""
        yield from self._lines(final=True)
        if self._pending:
            yield self._take(len(self._pending), 0)

    def _lines(self, final: bool) -> Iterator[str]:
        pending, limit = self._pending, self.limit
        while pending:
            end, skip = self._end()
            if end is not None and end <= limit:
                yield self._take(end, skip)
            elif len(pending) >= limit + len(self.mark) or (final and len(pending) > limit):
                # no line ends within the limit, and no mark can start before it any more
                yield self._take(_char_start(pending, limit), 0)
            else:
                return

    def _end(self) -> tuple[int | None, int]:
        """Where the first line held ends, and how many bytes end it (a newline: 1, a mark,
        which starts the next line: 0)."""
        newline = self._pending.find(b"\n")
        # a mark holds no newline, so one before the newline ends before it: looking no
        # further keeps a read of many short lines from searching its rest for each line
        before = newline if newline >= 0 else len(self._pending)
        mark = self._pending.find(self.mark, 1, before) if self.mark else -1
        if mark >= 0 and (newline < 0 or mark < newline):
            return mark, 0
        return (newline, 1) if newline >= 0 else (None, 0)

    def _take(self, end: int, skip: int) -> str:
        line = bytes(self._pending[:end])
        del self._pending[: end + skip]
        return line.decode("utf-8", "replace")


def _char_start(data: bytearray, cut: int) -> int:
    """`cut`, or the start of the UTF-8 character it would split."""
    for start in range(cut - 1, max(cut - 4, 0), -1):
        byte = data[start]
        if byte < 0x80:
            return cut
        if byte >= 0xC0:  # a lead byte: how long its character is
            length = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return start if start + length > cut else cut
    return cut


def new_mark() -> bytes:
    """A mark that RUN output holds by no chance: random, between NUL bytes."""
    return f"\0porter-build-step-{os.urandom(8).hex()}\0".encode()


class RunOutput:
    """A pipe RUN steps write to, read line by line (each at most LINE bytes, so memory
    stays bounded) by a thread that hands each line to `report`; a line given to
    `write_line` is handed over in its place after what was written before it, as a line of
    its own, so that `report` is called in order and by that one thread only."""

    def __init__(self, report: Callable[[str], None], mark: bytes | None = None) -> None:
        self.report = report
        self.mark = new_mark() if mark is None else mark
        self._splitter = LineSplitter(self.mark)
        self.failure: Exception | None = None  # what `report` raised, after which it is not called
        self._read, self.fd = os.pipe()
        self._thread = threading.Thread(target=self._pump, name="porter-build-output")

    def __enter__(self) -> RunOutput:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write_line(self, line: str) -> None:
        """Hand `line` to `report` through the pipe, after everything written so far."""
        data = self.mark + (line + "\n").encode("utf-8", "surrogateescape")
        while data:
            data = data[os.write(self.fd, data) :]

    def close(self) -> None:
        """Wait until every line written so far has been handed over (once is enough)."""
        if self.fd < 0:
            return
        os.close(self.fd)
        self.fd = -1
        self._thread.join()
        os.close(self._read)

    def _pump(self) -> None:
        """Report each line; once reporting fails (the client went away) keep draining the
        pipe, so that a RUN step never blocks on a full pipe."""
        mark = self.mark.decode("utf-8", "replace")
        while True:
            data = os.read(self._read, READ)
            lines = self._splitter.feed(data) if data else self._splitter.end()
            for line in lines:
                if self.failure is None:
                    try:
                        self.report(line.removeprefix(mark))
                    except Exception as exc:
                        self.failure = exc
            if not data:
                return
