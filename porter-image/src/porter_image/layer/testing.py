"""Helpers for testing code that handles layers: build archives by hand, snapshot trees.

Public so that the layout, image and CLI tests can craft hostile or unusual layers the same
way the layer tests do (as falcon's testing helpers are part of its API).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import zstandard

from porter_image.layer import tar_format as tf
from porter_image.layer.trees import tree_listing


def file(
    name: str, data: bytes = b"", mode: int = 0o644, **fields: object
) -> tuple[tf.TarEntry, bytes]:
    return tf.TarEntry(name=name, type=tf.REGULAR, mode=mode, size=len(data), **fields), data  # type: ignore[arg-type]


def directory(name: str, mode: int = 0o755, **fields: object) -> tuple[tf.TarEntry, bytes]:
    return tf.TarEntry(name=name, type=tf.DIRECTORY, mode=mode, **fields), b""  # type: ignore[arg-type]


def symlink(name: str, target: str, **fields: object) -> tuple[tf.TarEntry, bytes]:
    return tf.TarEntry(name=name, type=tf.SYMLINK, mode=0o777, linkname=target, **fields), b""  # type: ignore[arg-type]


def hardlink(name: str, target: str) -> tuple[tf.TarEntry, bytes]:
    return tf.TarEntry(name=name, type=tf.HARDLINK, linkname=target), b""


def device(
    name: str, kind: str = tf.CHAR, major: int = 1, minor: int = 3
) -> tuple[tf.TarEntry, bytes]:
    return tf.TarEntry(name=name, type=kind, mode=0o666, devmajor=major, devminor=minor), b""


def fifo(name: str) -> tuple[tf.TarEntry, bytes]:
    return tf.TarEntry(name=name, type=tf.FIFO, mode=0o644), b""


def archive(*members: tuple[tf.TarEntry, bytes], end: bool = True) -> bytes:
    """An uncompressed tar of the members, names written exactly as given (even hostile ones)."""
    parts = []
    for entry, data in members:
        parts += [tf.encode_header(entry), data, bytes(tf.padding(len(data)))]
    if end:
        parts.append(tf.ZERO_BLOCK * 2)
    return b"".join(parts)


def compress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


def snapshot(*roots: Path) -> list[str]:
    """Everything about the trees under `roots` (and the roots themselves) that a write outside
    a destination could change: paths, types, modes, owners, contents, links, xattrs, mtimes."""
    lines = []
    for root in roots:
        st = os.lstat(root)
        lines.append(f"{root}\t{st.st_mode:o}\t{st.st_uid}:{st.st_gid}\t{st.st_mtime_ns}")
        if os.path.isdir(root) and not os.path.islink(root):
            lines += [f"{root}/{line}" for line in tree_listing(root, mtimes=True)]
    return lines
