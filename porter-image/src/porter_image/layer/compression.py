"""Layer compression: gzip, zstd or none, streamed both ways with bounded memory.

Decompression yields bounded chunks (a small gzip or zstd bomb never expands in memory at
once) and ends with a CompressionError, not a short read, when the stream is cut or corrupt.
Compression goes through `LayerSink`, which hashes the tar (diff_id) and the blob (digest) in
the same pass that writes it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from porter_specs import media_types
from porter_specs.digest import Digester

from porter_image.layer.errors import CompressionError, LayerError
from porter_image.layer.options import LayerResult
from porter_image.layer.zstd_frames import ZSTD_MAGIC, FrameFormatError, ZstdFrameScanner

CHUNK = 1 << 20
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


def _plain_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def _gzip_member(decomp: zlib._Decompress, pending: bytes, stream: BinaryIO) -> Iterator[bytes]:
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


def _gzip_chunks(stream: BinaryIO) -> Iterator[bytes]:
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

    def __init__(self, stream: BinaryIO) -> None:
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


def _zstd_chunks(stream: BinaryIO) -> Iterator[bytes]:
    import zstandard  # only for zstd layers: its import is a cost every command would pay

    source = _ScannedSource(stream)
    reader = zstandard.ZstdDecompressor().stream_reader(
        source, read_size=READ_SIZE, read_across_frames=True
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


def decompressed_chunks(stream: BinaryIO, compression: str) -> Iterator[bytes]:
    """The uncompressed content of `stream` in chunks of at most 1 MiB."""
    name = normalize(compression)
    if name == "gzip":
        return _gzip_chunks(stream)
    if name == "zstd":
        return _zstd_chunks(stream)
    return _plain_chunks(stream)


# ---------------------------------------------------------------- compression


class Compressor(Protocol):
    def compress(self, data: bytes | memoryview, /) -> bytes: ...
    def flush(self) -> bytes: ...


class _Identity:
    def compress(self, data: bytes | memoryview) -> bytes:
        return bytes(data)

    def flush(self) -> bytes:
        return b""


def make_compressor(compression: str) -> Compressor:
    """A streaming compressor whose output is a function of its input only.

    gzip goes through zlib's own gzip wrapper, whose header carries no file name and mtime 0.
    """
    name = normalize(compression)
    if name == "gzip":
        return zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    if name == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True).compressobj()
    return _Identity()


class LayerSink:
    """Where a tar is written: hashes it, compresses it, hashes and writes the blob."""

    def __init__(self, out: BinaryIO, compression: str = "gzip") -> None:
        self.compression = normalize(compression)
        self._out = out
        self._compressor = make_compressor(self.compression)
        self._plain = compression == "none" or self.compression == "none"
        self.diff = Digester()
        self.blob = Digester()

    def write(self, data: bytes | memoryview) -> None:
        self.diff.update(data)
        if self._plain:
            self._emit(data)
            return
        out = self._compressor.compress(data)
        if out:
            self._emit(out)

    def _emit(self, data: bytes | memoryview) -> None:
        self.blob.update(data)
        self._out.write(data)

    def finish(self) -> LayerResult:
        """Flush the compressor and describe the blob that was written."""
        if not self._plain:
            tail = self._compressor.flush()
            if tail:
                self._emit(tail)
        media = media_types.layer_media_type("" if self.compression == "none" else self.compression)
        return LayerResult(media, self.blob.digest(), self.blob.size, self.diff.digest())
