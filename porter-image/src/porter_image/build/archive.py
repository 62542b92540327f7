"""Tar archives the builder unpacks: ADD's local tars and a context sent on stdin.

They go through the layer code's apply (never outside the target folder, owners kept);
bzip2 and xz, which layers never use, are decompressed here first.
"""

from __future__ import annotations

import bz2
import lzma
import tarfile
from pathlib import Path
from typing import BinaryIO

from porter_specs import media_types

from porter_image.layer.apply import apply_layer
from porter_image.layer.compression import detect


def is_archive(path: Path) -> bool:
    """Whether ADD should unpack a local file: a tar, plain or gzip/bzip2/xz/zstd compressed."""
    if not path.is_file():
        return False
    with open(path, "rb") as src:
        head = src.read(512)
    return (
        head.startswith((b"BZh", b"\xfd7zXZ")) or detect(head) != "none" or tarfile.is_tarfile(path)
    )


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
