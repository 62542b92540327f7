"""The Engine API's multiplexed stream: what attach, logs and exec send when there is no
terminal. Each chunk is preceded by 8 bytes, the stream (0 stdin, 1 stdout, 2 stderr), three
zero bytes and the chunk's length as a big-endian 32-bit number.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

STDIN, STDOUT, STDERR = 0, 1, 2
HEADER = struct.Struct(">BxxxL")
STREAMS = {"stdout": STDOUT, "stderr": STDERR}


def frame(stream: int, data: bytes) -> bytes:
    """`data` with its header; a chunk too large for one frame is split into several."""
    limit = 0xFFFFFFFF
    return b"".join(
        HEADER.pack(stream, len(data[i : i + limit])) + data[i : i + limit]
        for i in range(0, len(data), limit)
    )


class FrameReader:
    """Splits received bytes back into (stream, data), however the bytes were chunked."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        self._buffer += data
        while len(self._buffer) >= HEADER.size:
            stream, length = HEADER.unpack_from(self._buffer)
            if len(self._buffer) < HEADER.size + length:
                return
            yield stream, self._buffer[HEADER.size : HEADER.size + length]
            self._buffer = self._buffer[HEADER.size + length :]

    @property
    def pending(self) -> int:
        return len(self._buffer)
