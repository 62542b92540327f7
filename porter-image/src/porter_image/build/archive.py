"""Tar archives the builder unpacks: ADD's local tars and a context sent on stdin.

They go through the layer code's apply (never outside the target folder, owners kept);
bzip2 and xz, which layers never use, are decompressed here first.
"""

from __future__ import annotations

import bz2
import io
import lzma
import tarfile
from pathlib import Path
from typing import Any, BinaryIO, cast

from porter_specs import media_types

from porter_image.layer.apply import apply_layer
from porter_image.layer.compression import detect

HEAD = 512  # a tar header's size: enough to tell an archive from other bytes


def is_archive_head(head: bytes) -> bool:
    """Whether a file or stream starting with `head` (its first HEAD bytes) is an archive: a
    tar header, or gzip, bzip2, xz or zstd data (as docker tells them)."""
    if head.startswith((b"BZh", b"\xfd7zXZ")) or detect(head) != "none":
        return True
    try:
        tarfile.TarInfo.frombuf(head[:HEAD], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def is_archive(path: Path) -> bool:
    """Whether ADD should unpack a local file: a tar, plain or gzip/bzip2/xz/zstd compressed."""
    if not path.is_file():
        return False
    with open(path, "rb") as src:
        return is_archive_head(src.read(HEAD))


class _Replay(io.RawIOBase):
    """`head`, then what is left of `rest`: a stream read again from its start."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size], self._head = self._head[:size], self._head[size:]
            return size
        read1 = getattr(self._rest, "read1", self._rest.read)
        data = read1(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def sniff_archive(stream: BinaryIO) -> tuple[bool, BinaryIO]:
    """Whether `stream` holds an archive (`is_archive_head`), and the stream from its start
    again, with `peek` (which apply_tar reads the compression with)."""
    head = stream.read(HEAD)
    replay = io.BufferedReader(_Replay(head, stream), 1 << 16)
    return is_archive_head(head), cast(BinaryIO, replay)


def apply_tar(stream: BinaryIO, folder: Path) -> None:
    """Unpack a tar stream (plain, gzip, zstd, bzip2 or xz) into `folder` with the layer
    code's safety: nothing is written outside it, owners are kept."""
    head = stream.peek(8)[:8] if hasattr(stream, "peek") else b""
    if head.startswith(b"BZh"):
        with bz2.BZ2File(stream) as plain:
            apply_layer(plain, media_types.LAYER_TAR, folder)  # type: ignore[arg-type]  # a BZ2File/LZMAFile reads as BinaryIO does
    elif head.startswith(b"\xfd7zXZ"):
        with lzma.LZMAFile(stream) as plain:
            apply_layer(plain, media_types.LAYER_TAR, folder)  # type: ignore[arg-type]  # a BZ2File/LZMAFile reads as BinaryIO does
    else:
        apply_layer(stream, media_types.layer_media_type(detect(head)), folder)
