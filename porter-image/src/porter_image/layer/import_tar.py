"""Re-encoding an existing tarball as a layer (`porter-image import TAR`).

Every entry is read, checked as `apply_layer` would check it, and written again in our own
deterministic encoding: clean relative names ("/" and "./" prefixes dropped, directories with a
trailing "/"), numeric owners with empty uname/gname, xattrs kept. Entries that climb out of
the root, hardlinks that point out of it, and paths that run through a symlink the same archive
created (the classic "symlink, then write through it" attack) are refused.
"""

from __future__ import annotations

from typing import BinaryIO

from porter_image.layer import compression as codec
from porter_image.layer import tar_format as tf
from porter_image.layer.errors import HostileLayerError
from porter_image.layer.options import LayerResult, TarOptions
from porter_image.layer.paths import clean
from porter_image.layer.tar_reader import TarReader
from porter_image.layer.tar_writer import TarWriter


class _Peeked:
    """A stream with its first bytes read already (to detect compression)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._head:
            data, self._head = self._head, b""
            if size < 0 or size > len(data):
                return data + self._stream.read(-1 if size < 0 else size - len(data))
            data, self._head = data[:size], data[size:]
            return data
        return self._stream.read(size)


def _check_parents(name: str, symlinks: set[str]) -> None:
    parts = name.split("/")
    for depth in range(1, len(parts)):
        prefix = "/".join(parts[:depth])
        if prefix in symlinks:
            raise HostileLayerError(
                name, f"path runs through symlink {prefix!r} of the same archive"
            )


def write_tar_stream(src: BinaryIO, out: BinaryIO, compression: str = "gzip") -> LayerResult:
    """An existing tarball (uncompressed, or gzip/zstd detected from its magic) as a layer."""
    head = src.read(4)
    chunks = codec.decompressed_chunks(_Peeked(head, src), codec.detect(head))
    reader = TarReader(chunks)
    writer = TarWriter(codec.LayerSink(out, compression), TarOptions())
    symlinks: set[str] = set()
    for entry in reader.entries():
        name = clean(entry.name)
        if not name:
            continue  # the root itself: its attributes belong to the unpacker
        _check_parents(name, symlinks)
        if entry.type == tf.HARDLINK:
            target = clean(entry.linkname, name)
            if not target:
                raise HostileLayerError(name, "hardlink to the root")
            _check_parents(target, symlinks)
            entry.linkname = target
        if entry.type == tf.SYMLINK:
            symlinks.add(name)
        else:
            symlinks.discard(name)
        entry.name = name + "/" if entry.type == tf.DIRECTORY else name
        if entry.type == tf.CONTIGUOUS:
            entry.type = tf.REGULAR
        entry.mtime_ns -= entry.mtime_ns % 1_000_000_000
        entry.atime_ns = None
        writer.add_entry(entry, reader.data() if entry.data_size else None)
    reader.finish()
    return writer.close()
