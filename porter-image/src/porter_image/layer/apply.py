"""Applying a layer to a directory: the image-spec's changeset rules, whiteouts included.

An entry replaces whatever non-directory is at its path (a directory over a directory keeps
it and takes the entry's attributes); `.wh.NAME` removes NAME from lower layers and
`.wh..wh..opq` empties its directory of what lower layers put there. Directory modes and times
are set last, deepest first, so writing their contents does not disturb them. Every path is
resolved through `RootedTree`, so nothing outside the destination is ever written.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from porter_specs.digest import Digest, Digester

from porter_image.layer import compression
from porter_image.layer import tar_format as tf
from porter_image.layer.errors import HostileLayerError, LayerError
from porter_image.layer.options import ApplyOptions
from porter_image.layer.paths import RootedTree, clean
from porter_image.layer.prefetch import prefetch
from porter_image.layer.tar_reader import TarReader

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DEVICE_TYPES = {tf.CHAR: stat.S_IFCHR, tf.BLOCKDEV: stat.S_IFBLK}


class _SizeLimitExceeded(Exception):
    """Raised inside the chunk stream; turned into a HostileLayerError naming the entry."""


def _hashed(chunks: Iterator[bytes], digester: Digester, limit: int) -> Iterator[bytes]:
    for chunk in chunks:
        digester.update(chunk)
        if digester.size > limit + len(chunk):  # entries are checked exactly, below
            raise _SizeLimitExceeded
        yield chunk


def apply_layer(
    stream: BinaryIO,
    media_type: str,
    dest: Path,
    options: ApplyOptions = ApplyOptions(),  # noqa: B008 - frozen, so a shared default is safe
) -> Digest:
    """Decompress by media type, apply the entries into `dest`, return the diff_id.

    Raises LayerError subclasses (HostileLayerError, CompressionError); never writes outside
    `dest`. On error, `dest` holds the entries applied before the failing one.
    """
    kind = compression.for_media_type(media_type)
    os.makedirs(dest, exist_ok=True)
    digester = Digester()
    chunks = _hashed(compression.decompressed_chunks(stream, kind), digester, options.max_size)
    ahead = prefetch(chunks)
    reader = TarReader(ahead)
    applier = Applier(Path(dest), options)
    try:
        for entry in reader.entries():
            if reader.offset + entry.data_size > options.max_size:
                raise _SizeLimitExceeded
            applier.apply(entry, reader)
        reader.finish()
        applier.finish()
    except _SizeLimitExceeded:
        raise HostileLayerError(
            reader.current, f"layer exceeds the limit of {options.max_size} uncompressed bytes"
        ) from None
    finally:
        ahead.close()  # stops the decompression thread now, even when unwinding an error
        applier.close()
    return digester.digest()


class Applier:
    """Applies entries one by one; `finish()` sets directory modes and times at the end."""

    def __init__(self, dest: Path, options: ApplyOptions) -> None:
        self.tree = RootedTree(dest)
        self.options = options
        root = os.geteuid() == 0
        self.chown = options.preserve_owners and root
        self.devices = root if options.allow_devices is None else options.allow_devices
        self._dirs: dict[str, tf.TarEntry] = {}  # deferred mode and times, by clean path
        self._created: set[tuple[int, str]] = set()  # (parent inode, name) made by this layer

    def close(self) -> None:
        self.tree.close()

    def apply(self, entry: tf.TarEntry, reader: TarReader) -> None:
        name = clean(entry.name)
        parent, _, base = name.rpartition("/")
        if not name:
            if entry.type != tf.DIRECTORY:
                raise HostileLayerError(entry.name, "only a directory may stand for the root")
            self._dirs[""] = entry
            return
        if base.startswith(WHITEOUT):
            try:
                self._whiteout(name, parent, base)
            except OSError as err:
                raise LayerError(name, f"cannot apply whiteout: {err.strerror or err}") from err
            return
        if entry.type in _DEVICE_TYPES and not self.devices:
            raise HostileLayerError(name, "device nodes are not allowed (not running as root)")
        link_target = clean(entry.linkname, name) if entry.type == tf.HARDLINK else ""
        if entry.type == tf.HARDLINK and not link_target:
            raise HostileLayerError(name, "hardlink to the destination root")
        try:
            self._create(name, parent, base, entry, reader, link_target)
        except OSError as err:
            raise LayerError(name, f"cannot create: {err.strerror or err}") from err

    # ------------------------------------------------------------ whiteouts

    def _whiteout(self, name: str, parent: str, base: str) -> None:
        target = base[len(WHITEOUT) :]
        if base != OPAQUE and target in ("", ".", ".."):
            raise HostileLayerError(name, f"whiteout of {target!r} names no file in its directory")
        found = self.tree.directory(parent, create=False, entry=name)
        if found is None:
            return
        fd, ino = os.dup(found[0]), found[1]  # removals below may drop the cached descriptor
        try:
            if base == OPAQUE:
                for child in os.listdir(fd):
                    if (ino, child) not in self._created:
                        self._remove(fd, child, name)
            elif not base.startswith(WHITEOUT + WHITEOUT) and (ino, target) not in self._created:
                self._remove(fd, target, name)  # (other .wh..wh. names are aufs metadata)
        finally:
            os.close(fd)

    def _remove(self, dir_fd: int, child: str, entry: str) -> bool:
        """Remove `child` of `dir_fd` (recursively, never following links); False if absent."""
        try:
            st = os.lstat(child, dir_fd=dir_fd)
        except FileNotFoundError:
            return False
        try:
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(child, dir_fd=dir_fd)
            else:
                os.unlink(child, dir_fd=dir_fd)
        except OSError as err:
            raise LayerError(entry, f"cannot remove {child!r}: {err.strerror}") from err
        if stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode):
            self.tree.forget()
        return True

    # ------------------------------------------------------------ creation

    def _parent(self, parent: str, name: str) -> tuple[int, int]:
        found = self.tree.directory(parent, create=True, entry=name)
        assert found is not None  # create=True either returns or raises
        return found

    def _create(
        self,
        name: str,
        parent: str,
        base: str,
        entry: tf.TarEntry,
        reader: TarReader,
        link_target: str,
    ) -> None:
        fd, ino = self._parent(parent, name)
        try:
            existing = os.lstat(base, dir_fd=fd)
        except FileNotFoundError:
            existing = None
        keep_dir = (
            existing is not None and stat.S_ISDIR(existing.st_mode) and entry.type == tf.DIRECTORY
        )
        if existing is not None and not keep_dir and self._remove(fd, base, name):
            fd, ino = self._parent(parent, name)
        self._created.add((ino, base))
        if entry.type == tf.DIRECTORY:
            if not keep_dir:
                os.mkdir(base, 0o700, dir_fd=fd)
            self._dirs[name] = entry
            self._attributes(fd, base, entry, mode=False, times=False)
        elif entry.type in (tf.REGULAR, tf.CONTIGUOUS):
            self._write_file(fd, base, entry, reader)
        elif entry.type == tf.HARDLINK:
            self._hardlink(name, parent, base, link_target)
        elif entry.type == tf.SYMLINK:
            os.symlink(entry.linkname, base, dir_fd=fd)
            self._attributes(fd, base, entry, mode=False)
        elif entry.type == tf.FIFO:
            os.mkfifo(base, 0o600, dir_fd=fd)
            self._attributes(fd, base, entry)
        else:
            device = os.makedev(entry.devmajor, entry.devminor)
            os.mknod(base, 0o600 | _DEVICE_TYPES[entry.type], device, dir_fd=fd)
            self._attributes(fd, base, entry)

    def _write_file(self, dir_fd: int, base: str, entry: tf.TarEntry, reader: TarReader) -> None:
        fd = os.open(base, _FILE_FLAGS, 0o600, dir_fd=dir_fd)
        try:
            for chunk in reader.data():
                while chunk:
                    chunk = chunk[os.write(fd, chunk) :]
            if self.chown:
                os.fchown(fd, entry.uid, entry.gid)
            os.fchmod(fd, entry.mode)
            self._xattrs(fd, entry)
            os.utime(fd, ns=_times(entry))
        finally:
            os.close(fd)

    def _hardlink(self, name: str, parent: str, base: str, target: str) -> None:
        target_parent, _, target_base = target.rpartition("/")
        found = self.tree.directory(target_parent, create=False, entry=name)
        if found is None:
            raise LayerError(name, f"hardlink target {target!r} does not exist")
        source_fd = os.dup(found[0])  # resolving the parent below may evict it from the cache
        try:
            dir_fd, _ino = self._parent(parent, name)
            os.link(
                target_base, base, src_dir_fd=source_fd, dst_dir_fd=dir_fd, follow_symlinks=False
            )
        except FileNotFoundError:
            raise LayerError(name, f"hardlink target {target!r} does not exist") from None
        finally:
            os.close(source_fd)

    def _attributes(
        self, dir_fd: int, base: str, entry: tf.TarEntry, mode: bool = True, times: bool = True
    ) -> None:
        """Owner, then mode (chown clears set-id bits), xattrs and times of a non-file entry."""
        if self.chown:
            os.chown(base, entry.uid, entry.gid, dir_fd=dir_fd, follow_symlinks=False)
        if mode:
            os.chmod(base, entry.mode, dir_fd=dir_fd)  # never a symlink: fifos and devices only
        if entry.xattrs:
            self._xattrs(self.tree.proc_path(dir_fd, base), entry)
        if times:
            os.utime(base, ns=_times(entry), dir_fd=dir_fd, follow_symlinks=False)

    def _xattrs(self, target: int | str, entry: tf.TarEntry) -> None:
        for key, value in entry.xattrs.items():
            try:
                if isinstance(target, int):
                    os.setxattr(target, key, value)
                else:
                    os.setxattr(target, key, value, follow_symlinks=False)
            except OSError as err:
                if err.errno in (errno.ENOTSUP, errno.EPERM):
                    continue  # a namespace this filesystem or user cannot hold (as umoci)
                raise

    # ------------------------------------------------------------ directories, last

    def finish(self) -> None:
        """Modes and times of directories, deepest first, after all their contents exist."""
        for name in sorted(self._dirs, key=lambda n: n.count("/") + bool(n), reverse=True):
            entry = self._dirs[name]
            try:
                fd = self._open_dir(name)
                if fd is None:
                    continue
                try:
                    if not name and self.chown:
                        os.fchown(fd, entry.uid, entry.gid)
                    os.fchmod(fd, entry.mode)
                    os.utime(fd, ns=_times(entry))
                finally:
                    if name:
                        os.close(fd)
            except OSError as err:
                raise LayerError(name or "/", f"cannot set attributes: {err.strerror}") from err

    def _open_dir(self, name: str) -> int | None:
        if not name:
            return self.tree.root_fd
        parent, _, base = name.rpartition("/")
        found = self.tree.directory(parent, create=False, entry=name)
        if found is None:
            return None
        try:
            return os.open(
                base, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=found[0]
            )
        except OSError:
            return None  # replaced by a non-directory later in the layer


def _times(entry: tf.TarEntry) -> tuple[int, int]:
    return (entry.atime_ns if entry.atime_ns is not None else entry.mtime_ns, entry.mtime_ns)
