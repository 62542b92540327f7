"""Deterministic tar of a directory tree, streamed through compression into a blob.

Entries in `tree_walk` order; uid/gid numeric with empty uname/gname; permission bits as
they are; xattrs as PAX SCHILY.xattr.* records; the second and later paths of a hardlinked
inode as hardlinks to the first; no atime or ctime; optionally one fixed mtime. The same tree
therefore always gives the same diff_id, and with the same zlib/zstd the same digest.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from porter_image.layer import tar_format as tf
from porter_image.layer.compression import CHUNK, LayerSink
from porter_image.layer.errors import LayerError
from porter_image.layer.options import LayerResult, TarOptions
from porter_image.layer.tree_walk import read_xattrs, walk

_TYPES = {
    stat.S_IFREG: tf.REGULAR,
    stat.S_IFDIR: tf.DIRECTORY,
    stat.S_IFLNK: tf.SYMLINK,
    stat.S_IFCHR: tf.CHAR,
    stat.S_IFBLK: tf.BLOCKDEV,
    stat.S_IFIFO: tf.FIFO,
}


class TarWriter:
    """Writes entries for files on disk into a LayerSink, remembering hardlinked inodes."""

    def __init__(self, sink: LayerSink, options: TarOptions) -> None:
        self.sink = sink
        self.options = options
        self._links: dict[tuple[int, int], str] = {}
        self._buffer = bytearray(CHUNK)

    def entry_for(self, rel: str, path: str, st: os.stat_result) -> tf.TarEntry | None:
        """The tar entry describing `path`, or None for what tar cannot hold (sockets)."""
        kind = _TYPES.get(stat.S_IFMT(st.st_mode))
        if kind is None:
            return None
        uid, gid = self.options.owner or (st.st_uid, st.st_gid)
        mtime = self.options.mtime if self.options.mtime is not None else int(st.st_mtime)
        entry = tf.TarEntry(
            name=rel + "/" if kind == tf.DIRECTORY else rel,
            type=kind,
            mode=stat.S_IMODE(st.st_mode),
            uid=uid,
            gid=gid,
            mtime_ns=mtime * 1_000_000_000,
        )
        if kind == tf.REGULAR:
            entry.size = st.st_size
            if st.st_nlink > 1:
                first = self._links.setdefault((st.st_dev, st.st_ino), rel)
                if first != rel:
                    entry.type, entry.size, entry.linkname = tf.HARDLINK, 0, first
        elif kind == tf.SYMLINK:
            entry.linkname = os.readlink(path)
        elif kind in (tf.CHAR, tf.BLOCKDEV):
            entry.devmajor, entry.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        if self.options.xattrs and entry.type != tf.HARDLINK:
            entry.xattrs = read_xattrs(path)
        return entry

    def note(self, rel: str, st: os.stat_result) -> None:
        """Remember a file left out of the archive (unchanged in a diff): later paths of its
        inode become hardlinks to it, which the lower layer already holds."""
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            self._links.setdefault((st.st_dev, st.st_ino), rel)

    def add(self, rel: str, path: str, st: os.stat_result) -> None:
        """Write the entry for one file on disk, with its content."""
        try:
            entry = self.entry_for(rel, path, st)
        except OSError as err:
            raise LayerError(rel, f"cannot read: {err.strerror}") from err
        if entry is None:
            return
        self.sink.write(tf.encode_header(entry))
        if entry.type == tf.REGULAR and entry.size:
            self._copy_file(rel, path, entry.size)

    def add_entry(self, entry: tf.TarEntry, data: Iterator[memoryview] | None = None) -> None:
        """Write an entry given as such (whiteouts, re-encoded tar entries) with its data."""
        self.sink.write(tf.encode_header(entry))
        written = 0
        for chunk in data or ():
            self.sink.write(chunk)
            written += len(chunk)
        if written != entry.data_size:
            raise LayerError(entry.name, f"expected {entry.data_size} bytes of data, got {written}")
        self._pad(written)

    def _copy_file(self, rel: str, path: str, size: int) -> None:
        view = memoryview(self._buffer)
        left = size
        try:
            with open(path, "rb", buffering=0) as src:
                while left:
                    got = src.readinto(view[: min(left, CHUNK)])
                    if not got:
                        raise LayerError(rel, "file shrank while it was being archived")
                    self.sink.write(view[:got])
                    left -= got
        except OSError as err:
            raise LayerError(rel, f"cannot read: {err.strerror}") from err
        self._pad(size)

    def _pad(self, size: int) -> None:
        if tf.padding(size):
            self.sink.write(bytes(tf.padding(size)))

    def close(self) -> LayerResult:
        """Write the end-of-archive marker and finish the blob."""
        self.sink.write(tf.ZERO_BLOCK * 2)
        return self.sink.finish()


def write_layer(
    root: Path,
    out: BinaryIO,
    compression: str = "gzip",
    options: TarOptions = TarOptions(),  # noqa: B008 - frozen, so a shared default is safe
) -> LayerResult:
    """A deterministic tar of the tree under `root`, streamed through compression into `out`."""
    if not os.path.isdir(root):
        raise LayerError(os.fspath(root), "not a directory")
    writer = TarWriter(LayerSink(out, compression), options)
    for rel, path, st in walk(root):
        writer.add(rel, path, st)
    return writer.close()
