"""The daemon's streams: the multiplexed stdout/stderr framing of attach, exec and logs when
there is no TTY, and the JSON message streams of pull, push, load and events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from porter_cli.client.errors import StreamError

STDIN, STDOUT, STDERR, SYSTEMERR = 0, 1, 2, 3
HEADER_SIZE = 8


def demux(read: Callable[[int], bytes]) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) frames from `read(n)`, which returns exactly n bytes or fewer at the
    end. Each frame is an 8-byte header (stream type, 3 zero bytes, big-endian size) and
    the payload. A truncated frame ends the iteration."""
    while True:
        header = read(HEADER_SIZE)
        if len(header) < HEADER_SIZE:
            return
        stream = header[0]
        size = int.from_bytes(header[4:8], "big")
        payload = read(size) if size else b""
        if len(payload) < size:
            if payload:
                yield stream, payload
            return
        if stream == SYSTEMERR:
            raise StreamError(payload.decode("utf-8", "replace").strip())
        yield stream, payload


def frame(stream: int, payload: bytes) -> bytes:
    """One multiplexed frame (for fakes and tests of the demuxer)."""
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def json_messages(chunks: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    """JSON objects from a stream of chunks, whether newline-separated or back to back."""
    decoder = json.JSONDecoder()
    buffer = ""
    pending = b""
    for chunk in chunks:
        pending += chunk
        try:
            buffer += pending.decode("utf-8")
            pending = b""
        except UnicodeDecodeError:
            continue  # a character split across chunks
        while True:
            buffer = buffer.lstrip()
            if not buffer:
                break
            try:
                message, end = decoder.raw_decode(buffer)
            except ValueError:
                break  # incomplete: wait for more
            buffer = buffer[end:]
            if isinstance(message, dict):
                yield message
    if buffer.strip():
        raise StreamError(f"malformed message in the daemon's stream: {buffer.strip()[:80]!r}")


def raise_for_error(message: dict[str, Any]) -> None:
    """A progress message carrying `error`/`errorDetail` raises StreamError."""
    detail = message.get("errorDetail")
    if message.get("error") or detail:
        text = message.get("error") or (detail or {}).get("message") or "unknown error"
        raise StreamError(str(text))
