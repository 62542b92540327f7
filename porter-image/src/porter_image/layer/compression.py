"""Layer compression: gzip, zstd or none, streamed both ways with bounded memory.

Decompression yields bounded chunks (a small gzip or zstd bomb never expands in memory at
once) and ends with a CompressionError, not a short read, when the stream is cut or corrupt.
Compression goes through `LayerSink`, which hashes the tar (diff_id) and the blob (digest) in
the same pass that writes it.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from typing import IO, BinaryIO, Protocol, cast

from porter_specs import media_types
from porter_specs.digest import Digester

from porter_image.layer.errors import CompressionError, LayerError
from porter_image.layer.options import LayerResult
from porter_image.layer.zstd_frames import ZSTD_MAGIC, FrameFormatError, ZstdFrameScanner

CHUNK = 1 << 20
# An uncompressed layer is read in larger pieces: each is hashed with the GIL released (in
# the prefetch thread) and written to files from memoryviews of it, so fewer, longer calls.
PLAIN_READ = 4 << 20
READ_SIZE = 256 << 10
GZIP_LEVEL = 6  # gzip(1)'s and Go's default: what registries' other clients produce
ZSTD_LEVEL = 3  # zstd(1)'s default
GZIP_MAGIC = b"\x1f\x8b"
COMPRESSIONS = ("gzip", "zstd", "none")


def normalize(compression: str) -> str:
    """'' and 'none' are the same thing; anything unknown is refused."""
    name = "none" if compression in ("", "none") else compression
    if name not in COMPRESSIONS:
        raise LayerError("", f"unknown compression {compression!r} (use gzip, zstd or none)")
    return name


def for_media_type(media_type: str) -> str:
    """The compression of a layer media type; unknown media types are refused."""
    try:
        return normalize(media_types.LAYER_COMPRESSION[media_type])
    except KeyError:
        raise LayerError("", f"unsupported layer media type {media_type!r}") from None


def detect(head: bytes) -> str:
    """Guess the compression of a stream from its first bytes (for importing a tarball)."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


# ---------------------------------------------------------------- decompression


class Readable(Protocol):
    """What decompression reads from: a file, a verifying reader, a peeked-at stream."""

    def read(self, size: int = -1, /) -> bytes: ...


def _plain_chunks(stream: Readable) -> Iterator[bytes]:
    while chunk := stream.read(PLAIN_READ):
        yield chunk


def _gzip_member(decomp: zlib._Decompress, pending: bytes, stream: Readable) -> Iterator[bytes]:
    """Inflate one gzip member; afterwards `decomp.unused_data` holds what follows it."""
    while True:
        try:
            out = decomp.decompress(pending, CHUNK) if pending else decomp.flush()
        except zlib.error as err:
            raise CompressionError("gzip", f"is corrupt ({err})") from err
        if out:
            yield out
        if decomp.eof:
            return
        if not pending and not out:
            raise CompressionError("gzip", "is truncated (unexpected end of data)")
        pending = decomp.unconsumed_tail or stream.read(READ_SIZE)


def _gzip_chunks(stream: Readable) -> Iterator[bytes]:
    pending = stream.read(READ_SIZE)
    if not pending:
        raise CompressionError("gzip", "is empty")
    while pending:
        decomp = zlib.decompressobj(31)
        yield from _gzip_member(decomp, pending, stream)
        pending = decomp.unused_data or stream.read(READ_SIZE)
        if pending and not pending.startswith(GZIP_MAGIC):
            while pending:  # zero padding after the last member is tolerated, as gzip(1) does
                if pending.strip(b"\0"):
                    raise CompressionError("gzip", "has trailing garbage after the compressed data")
                pending = stream.read(READ_SIZE)


class _ScannedSource:
    """The compressed side of a zstd stream, watched by a frame scanner as it is read."""

    def __init__(self, stream: Readable) -> None:
        self._stream = stream
        self.scanner = ZstdFrameScanner()
        self.seen = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.seen += len(data)
        try:
            self.scanner.feed(data)
        except FrameFormatError as err:
            raise CompressionError("zstd", f"is corrupt ({err})") from err
        return data


def _zstd_chunks(stream: Readable) -> Iterator[bytes]:
    import zstandard  # only for zstd layers: its import is a cost every command would pay

    source = _ScannedSource(stream)
    reader = zstandard.ZstdDecompressor().stream_reader(
        cast(IO[bytes], source), read_size=READ_SIZE, read_across_frames=True
    )
    while True:
        try:
            out = reader.read(CHUNK)
        except zstandard.ZstdError as err:
            raise CompressionError("zstd", f"is corrupt ({err})") from err
        if not out:
            break
        yield out
    if source.seen == 0:
        raise CompressionError("zstd", "is empty")
    if not source.scanner.at_boundary:
        raise CompressionError("zstd", "is truncated (unexpected end of data)")


def decompressed_chunks(stream: Readable, compression: str) -> Iterator[bytes]:
    """The uncompressed content of `stream` in bounded chunks (CHUNK, or PLAIN_READ as is)."""
    name = normalize(compression)
    if name == "gzip":
        return _gzip_chunks(stream)
    if name == "zstd":
        return _zstd_chunks(stream)
    return _plain_chunks(stream)


# ---------------------------------------------------------------- compression


class Compressor(Protocol):
    def compress(self, data: bytes | bytearray | memoryview, /) -> bytes: ...
    def flush(self) -> bytes: ...


class _Identity:
    def compress(self, data: bytes | bytearray | memoryview) -> bytes:
        return bytes(data)

    def flush(self) -> bytes:
        return b""


def zstd_workers() -> int:
    """libzstd worker threads for compressing a layer: the CPUs we may run on, at most 4.

    Multi-threaded zstd writes the same bytes whatever the number of workers (its jobs are
    cut by size, not by worker), so layers stay reproducible across machines; it differs
    from single-threaded output, which is why there is always at least one worker.
    """
    return max(1, min(len(os.sched_getaffinity(0)), 4))


def make_compressor(compression: str) -> Compressor:
    """A streaming compressor whose output is a function of its input only.

    gzip goes through zlib's own gzip wrapper, whose header carries no file name and mtime 0.
    zstd compresses in libzstd's worker threads, beside the thread that writes the tar.
    """
    name = normalize(compression)
    if name == "gzip":
        return zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    if name == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(
            level=ZSTD_LEVEL, write_checksum=True, threads=zstd_workers()
        ).compressobj()
    return _Identity()


class LayerSink:
    """Where a tar is written: hashes it, compresses it, hashes and writes the blob.

    Writes below `BATCH` bytes (headers, padding, small files) are gathered and handed on
    together: a call into the hash or the compressor costs more than 512 bytes of work. An
    uncompressed blob is the tar itself, so its digest is the diff_id, computed once.
    """

    BATCH = 1 << 20

    def __init__(self, out: BinaryIO, compression: str = "gzip") -> None:
        self.compression = normalize(compression)
        self._out = out
        self._compressor = make_compressor(self.compression)
        self._plain = self.compression == "none"
        self.diff = Digester()
        self.blob = self.diff if self._plain else Digester()
        self._pending = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Take `data`; it is copied or consumed before returning (the caller may reuse it)."""
        if len(data) < self.BATCH:
            self._pending += data
            if len(self._pending) < self.BATCH:
                return
            data, self._pending = self._pending, bytearray()
        elif self._pending:
            self._pass_on(self._pending)
            self._pending = bytearray()
        self._pass_on(data)

    def _pass_on(self, data: bytes | bytearray | memoryview) -> None:
        self.diff.update(data)
        if self._plain:
            self._out.write(data)
            return
        out = self._compressor.compress(data)
        if out:
            self._emit(out)

    def _emit(self, data: bytes) -> None:
        self.blob.update(data)
        self._out.write(data)

    def finish(self) -> LayerResult:
        """Flush the compressor and describe the blob that was written."""
        if self._pending:
            self._pass_on(self._pending)
            self._pending = bytearray()
        if not self._plain:
            tail = self._compressor.flush()
            if tail:
                self._emit(tail)
        media = media_types.layer_media_type("" if self.compression == "none" else self.compression)
        return LayerResult(media, self.blob.digest(), self.blob.size, self.diff.digest())
