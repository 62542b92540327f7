"""Layer compression: round trips, deterministic gzip, clear errors on cut or corrupt streams."""

from __future__ import annotations

import gzip
import io
import os

import pytest
import zstandard
from porter_image.layer import CompressionError, LayerError, compression
from porter_image.layer.compression import (
    CHUNK,
    LayerSink,
    decompressed_chunks,
    detect,
    for_media_type,
)
from porter_image.layer.zstd_frames import ZstdFrameScanner
from porter_specs.digest import from_bytes

DATA = os.urandom(1 << 20) + bytes(3 << 20) + b"tail"


def _compress(data: bytes, compression: str) -> bytes:
    out = io.BytesIO()
    sink = LayerSink(out, compression)
    sink.write(data)
    sink.finish()
    return out.getvalue()


def _decompress(blob: bytes, compression: str) -> bytes:
    return b"".join(decompressed_chunks(io.BytesIO(blob), compression))


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_round_trip(compression: str) -> None:
    assert _decompress(_compress(DATA, compression), compression) == DATA


def test_gzip_header_has_no_name_and_mtime_zero() -> None:
    blob = _compress(b"x", "gzip")
    assert blob[:4] == b"\x1f\x8b\x08\x00"  # deflate, no FNAME/FEXTRA/FCOMMENT flags
    assert blob[4:8] == bytes(4)  # mtime 0
    assert gzip.decompress(blob) == b"x"


def test_zstd_output_is_readable_by_the_zstd_library() -> None:
    blob = _compress(DATA, "zstd")
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob))
    assert reader.read() == DATA


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.99])
def test_truncated_stream_is_a_compression_error(compression: str, keep: float) -> None:
    blob = _compress(DATA, compression)
    with pytest.raises(CompressionError, match=f"{compression} stream is truncated"):
        _decompress(blob[: int(len(blob) * keep)], compression)


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_corrupt_stream_is_a_compression_error(compression: str) -> None:
    blob = bytearray(_compress(DATA, compression))
    blob[len(blob) // 2 : len(blob) // 2 + 64] = bytes(64)
    with pytest.raises(CompressionError, match=f"{compression} stream is corrupt"):
        _decompress(bytes(blob), compression)


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_empty_stream_is_a_compression_error(compression: str) -> None:
    with pytest.raises(CompressionError, match="is empty"):
        _decompress(b"", compression)


def test_gzip_with_several_members_is_read_whole() -> None:
    blob = gzip.compress(b"one") + gzip.compress(b"two")
    assert _decompress(blob, "gzip") == b"onetwo"


def test_gzip_trailing_zero_padding_is_tolerated_but_garbage_refused() -> None:
    blob = gzip.compress(b"one")
    assert _decompress(blob + bytes(100), "gzip") == b"one"
    with pytest.raises(CompressionError, match="trailing garbage"):
        _decompress(blob + b"junk", "gzip")


def test_zstd_with_several_frames_and_a_skippable_frame_is_read_whole() -> None:
    skippable = (0x184D2A50).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    blob = zstandard.ZstdCompressor().compress(b"one") + skippable + _compress(b"two", "zstd")
    assert _decompress(blob, "zstd") == b"onetwo"


def test_a_bomb_decompresses_in_bounded_chunks() -> None:
    bomb = gzip.compress(bytes(64 << 20))
    assert all(len(chunk) <= CHUNK for chunk in decompressed_chunks(io.BytesIO(bomb), "gzip"))


def test_zstd_frame_scanner_tracks_frame_boundaries_byte_by_byte() -> None:
    blob = _compress(DATA[: 200 << 10], "zstd")
    scanner = ZstdFrameScanner()
    boundaries = []
    for index in range(len(blob)):
        scanner.feed(blob[index : index + 1])
        boundaries.append(scanner.at_boundary)
    assert boundaries[-1] and not any(boundaries[:-1])


def test_sink_hashes_tar_and_blob_in_one_pass() -> None:
    out = io.BytesIO()
    sink = LayerSink(out, "gzip")
    sink.write(DATA)
    result = sink.finish()
    assert result.size == len(out.getvalue())
    assert result.diff_id != result.digest


def test_detect_reads_magic_numbers() -> None:
    assert detect(_compress(b"x", "gzip")) == "gzip"
    assert detect(_compress(b"x", "zstd")) == "zstd"
    assert detect(b"plain tar") == "none"


def test_unknown_media_type_is_refused() -> None:
    with pytest.raises(LayerError, match="unsupported layer media type 'text/plain'"):
        for_media_type("text/plain")


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_sink_output_does_not_depend_on_how_the_tar_is_cut(compression: str) -> None:
    whole = _compress(DATA, compression)
    out = io.BytesIO()
    sink = LayerSink(out, compression)
    for start in range(0, len(DATA), 700):  # small writes, gathered by the sink
        sink.write(memoryview(DATA)[start : start + 700])
    result = sink.finish()
    assert out.getvalue() == whole
    assert result.diff_id == from_bytes(DATA)


def test_zstd_layers_are_the_same_bytes_whatever_the_number_of_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = DATA * 6  # several of libzstd's jobs
    blobs = set()
    for workers in (1, 2, 3):
        monkeypatch.setattr(compression, "zstd_workers", lambda n=workers: n)
        blobs.add(_compress(data, "zstd"))
    assert len(blobs) == 1
    assert _decompress(blobs.pop(), "zstd") == data


def test_an_uncompressed_blob_is_described_by_the_tar_digest() -> None:
    out = io.BytesIO()
    sink = LayerSink(out, "none")
    sink.write(DATA)
    result = sink.finish()
    assert out.getvalue() == DATA
    assert result.digest == result.diff_id == from_bytes(DATA) and result.size == len(DATA)
