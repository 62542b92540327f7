"""A streaming tar reader: headers parsed by hand, data handed out as zero-copy memoryviews.

It reads ustar, PAX (local and global) and GNU long names/links, refuses anything it cannot
apply faithfully (sparse files, multi-volume archives) and never buffers more than one
decompressed chunk plus one metadata record of at most 1 MiB.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from porter_image.layer.errors import LayerError
from porter_image.layer.tar_format import (
    BLOCK,
    ENTRY_TYPES,
    GNU_LONGLINK,
    GNU_LONGNAME,
    PAX_GLOBAL,
    PAX_LOCAL,
    ZERO_BLOCK,
    HeaderError,
    TarEntry,
    apply_pax,
    decode_header,
    padding,
    parse_pax,
)

MAX_META_SIZE = 1 << 20  # a PAX record set or GNU long name larger than this is hostile
_META_TYPES = frozenset({PAX_LOCAL, PAX_GLOBAL, GNU_LONGNAME, GNU_LONGLINK})


class TarReader:
    """Iterate `entries()`; while on an entry, `data()` streams its content (or it is skipped)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self._view = memoryview(self._buf)
        self._pos = 0
        self._base = 0  # stream offset of the start of self._buf
        self._data_left = 0  # data bytes of the current entry not yet handed out
        self._skip = 0  # bytes (data + padding) to pass before the next header
        self._global: dict[str, bytes] = {}
        self.current = ""  # the entry being read, for error messages

    def _fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._base += len(self._buf)
                self._buf = chunk
                self._view = memoryview(chunk)
                self._pos = 0
                return True
        return False

    @property
    def offset(self) -> int:
        """Bytes of the uncompressed stream consumed so far."""
        return self._base + self._pos

    def _truncated(self) -> LayerError:
        return LayerError(self.current, "tar stream is truncated (unexpected end of data)")

    def _take(self, size: int) -> bytes | None:
        """Exactly `size` bytes; None when the stream ends cleanly before the first of them."""
        end = self._pos + size
        if end <= len(self._buf):
            self._pos = end
            return self._buf[end - size : end]
        parts = [self._buf[self._pos :]]
        got = len(parts[0])
        while got < size:
            if not self._fill():
                if got == 0:
                    return None
                raise self._truncated()
            piece = self._buf[: size - got]
            self._pos = len(piece)
            parts.append(piece)
            got += len(piece)
        return b"".join(parts)

    def _pass(self, size: int) -> None:
        while size:
            avail = len(self._buf) - self._pos
            if not avail:
                if not self._fill():
                    raise self._truncated()
                continue
            step = min(avail, size)
            self._pos += step
            size -= step

    def data(self) -> Iterator[memoryview]:
        """The current entry's data in chunks, valid until the next chunk is asked for."""
        while self._data_left:
            avail = len(self._buf) - self._pos
            if not avail:
                if not self._fill():
                    raise self._truncated()
                continue
            step = min(avail, self._data_left)
            start = self._pos
            self._pos += step
            self._data_left -= step
            self._skip -= step
            yield self._view[start : start + step]

    def write_data(self, fd: int) -> None:
        """Write the current entry's data to file descriptor `fd`, straight from the buffer."""
        left = self._data_left
        while left:
            avail = len(self._buf) - self._pos
            if not avail:
                if not self._fill():
                    raise self._truncated()
                continue
            start = self._pos
            step = avail if avail < left else left
            self._pos += step
            self._data_left = left = left - step
            self._skip -= step
            view = self._view[start : start + step]
            while view:
                view = view[os.write(fd, view) :]

    def _meta(self, entry: TarEntry) -> bytes:
        if entry.size > MAX_META_SIZE:
            raise LayerError(self.current, f"{entry.size}-byte metadata record is too large")
        data = self._take(entry.size + padding(entry.size)) if entry.size else b""
        if data is None:
            raise self._truncated()
        return data[: entry.size]

    def _header(self) -> TarEntry | None:
        records = dict(self._global) if self._global else {}
        long_name: bytes | None = None
        long_link: bytes | None = None
        while True:
            block = self._take(BLOCK)
            if block is None or block == ZERO_BLOCK:
                if records != self._global or long_name or long_link:
                    raise self._truncated()
                return None
            entry = decode_header(block)
            if entry.type not in _META_TYPES:
                break
            data = self._meta(entry)
            if entry.type == PAX_LOCAL:
                records.update(parse_pax(data))
            elif entry.type == PAX_GLOBAL:
                self._global.update(parse_pax(data))
                records.update(self._global)
            elif entry.type == GNU_LONGNAME:
                long_name = data.split(b"\0", 1)[0]
            else:
                long_link = data.split(b"\0", 1)[0]
        if long_name is not None:
            entry.name = os.fsdecode(long_name)
        if long_link is not None:
            entry.linkname = os.fsdecode(long_link)
        if records:
            apply_pax(entry, records)
        return entry

    def entries(self) -> Iterator[TarEntry]:
        """Each entry in archive order; data not read by the consumer is skipped."""
        while True:
            self._pass(self._skip)
            self._skip = self._data_left = 0
            try:
                entry = self._header()
            except HeaderError as err:
                after = f" after entry {self.current!r}" if self.current else ""
                raise LayerError("", f"corrupt tar header{after}: {err}") from err
            if entry is None:
                return
            self.current = entry.name
            if entry.type not in ENTRY_TYPES:
                raise LayerError(entry.name, f"unsupported tar entry type {entry.type!r}")
            if entry.size < 0:
                raise LayerError(entry.name, "negative size")
            self._data_left = entry.data_size
            self._skip = entry.data_size + padding(entry.data_size)
            yield entry

    def finish(self) -> None:
        """Read to the end of the stream (the padding after the end-of-archive marker), so
        that the whole uncompressed stream is hashed and the decompressor checks its trailer."""
        for _chunk in self._chunks:
            pass
        self._buf = b""
        self._view = memoryview(self._buf)
        self._pos = 0
