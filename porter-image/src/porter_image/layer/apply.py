"""Applying a layer to a directory: the image-spec's changeset rules, whiteouts included.

An entry replaces whatever non-directory is at its path (a directory over a directory keeps
it and takes the entry's attributes); `.wh.NAME` removes NAME from lower layers and
`.wh..wh..opq` empties its directory of what lower layers put there. Directory modes and times
are set last, deepest first, so writing their contents does not disturb them. Every path is
resolved through `RootedTree`, so nothing outside the destination is ever written.
"""

from __future__ import annotations

import contextlib
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
OVERLAY_OPAQUE = "trusted.overlay.opaque"
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DEVICE_TYPES = {tf.CHAR: stat.S_IFCHR, tf.BLOCKDEV: stat.S_IFBLK}


class _SizeLimitExceeded(Exception):
    """Raised inside the chunk stream; turned into a HostileLayerError naming the entry."""


class _Counter:
    """Counts like a Digester, without hashing (the stream is verified elsewhere)."""

    size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)


def _hashed(chunks: Iterator[bytes], digester: Digester | _Counter, limit: int) -> Iterator[bytes]:
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
    verified_diff_id: Digest | None = None,
) -> Digest:
    """Decompress by media type, apply the entries into `dest`, return the diff_id.

    Raises LayerError subclasses (HostileLayerError, CompressionError); never writes outside
    `dest`. On error, `dest` holds the entries applied before the failing one.

    `verified_diff_id` is for an uncompressed layer whose `stream` already checks its bytes
    against their digest (a VerifyingReader over the blob): that digest is the diff_id, so
    the bytes are not hashed a second time and it is returned as is.
    """
    kind = compression.for_media_type(media_type)
    if verified_diff_id is not None and kind != "none":
        raise LayerError("", "a verified diff_id is only known for an uncompressed layer")
    os.makedirs(dest, exist_ok=True)
    digester = Digester() if verified_diff_id is None else _Counter()
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
    if verified_diff_id is not None:
        return verified_diff_id
    assert isinstance(digester, Digester)
    return digester.digest()


class Applier:
    """Applies entries one by one; `finish()` sets directory modes and times at the end."""

    def __init__(self, dest: Path, options: ApplyOptions) -> None:
        self.tree = RootedTree(dest)
        self.options = options
        root = os.geteuid() == 0
        self.chown = options.preserve_owners and root
        self.devices = root if options.allow_devices is None else options.allow_devices
        self.euid, self.egid = os.geteuid(), os.getegid()
        # mode bits a new file cannot get from open(2) alone: set-id/sticky, and the umask's
        self._mode_fixup = 0o7000 | _umask()
        self._dirs: dict[str, tf.TarEntry] = {}  # deferred mode and times, by clean path
        self._created: set[tuple[int, str]] = set()  # (parent inode, name) made by this layer
        self._whiteouts: set[tuple[int, str]] = set()  # overlay whiteout devices made by it

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
        if self.options.overlay_whiteouts:
            self._overlay_whiteout(name, parent, base, target)
            return
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

    def _overlay_whiteout(self, name: str, parent: str, base: str, target: str) -> None:
        """Record the whiteout for overlayfs: lower layers are not here to remove from.

        A name this layer also creates keeps its entry; when that is a directory it is made
        opaque, since the lower one it replaces is gone (whichever of the two came first).
        """
        fd, ino, _plain = self._parent(parent, name)
        if base == OPAQUE:
            os.setxattr(fd, OVERLAY_OPAQUE, b"y")
        elif base.startswith(WHITEOUT + WHITEOUT):
            return  # aufs metadata
        elif (ino, target) in self._created:
            self._make_opaque(fd, target)
        else:
            with contextlib.suppress(FileExistsError):  # the same whiteout twice
                os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(0, 0), dir_fd=fd)
            self._whiteouts.add((ino, target))

    @staticmethod
    def _make_opaque(dir_fd: int, base: str) -> None:
        """Mark `base` opaque when it is a directory (anything else hides the lower one)."""
        try:
            fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
        except OSError:  # not a directory (or gone): nothing to mark
            return
        try:
            os.setxattr(fd, OVERLAY_OPAQUE, b"y")
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

    def _parent(self, parent: str, name: str) -> tuple[int, int, bool]:
        found = self.tree.directory(parent, create=True, entry=name)
        assert found is not None  # create=True either returns or raises
        return found

    def _replace(self, dir_fd: int, parent: str, base: str, name: str) -> int:
        """Remove what is at `base` (the create found it there); the parent's descriptor,
        opened again if the removal invalidated the cached one."""
        if self._remove(dir_fd, base, name):
            return self._parent(parent, name)[0]
        return dir_fd

    def _create(
        self,
        name: str,
        parent: str,
        base: str,
        entry: tf.TarEntry,
        reader: TarReader,
        link_target: str,
    ) -> None:
        """Create first and deal with what was there only on EEXIST: one system call for the
        common case of a new name, instead of an lstat before every entry."""
        fd, ino, plain = self._parent(parent, name)
        self._created.add((ino, base))
        kind = entry.type
        if kind == tf.REGULAR or kind == tf.CONTIGUOUS:
            self._write_file(fd, parent, base, name, entry, reader, plain)
        elif kind == tf.DIRECTORY:
            self._directory(fd, parent, base, name, entry, plain)
            if (ino, base) in self._whiteouts:  # over this layer's own whiteout of the name
                self._make_opaque(self._parent(parent, name)[0], base)
        elif kind == tf.HARDLINK:
            self._hardlink(name, parent, base, link_target)
        elif kind == tf.SYMLINK:
            try:
                os.symlink(entry.linkname, base, dir_fd=fd)
            except FileExistsError:
                fd = self._replace(fd, parent, base, name)
                os.symlink(entry.linkname, base, dir_fd=fd)
            self._attributes(fd, base, entry, plain, mode=False)
        else:
            if kind == tf.FIFO:
                mode, device = stat.S_IFIFO | 0o600, 0
            else:
                mode = _DEVICE_TYPES[kind] | 0o600
                device = os.makedev(entry.devmajor, entry.devminor)
            try:
                os.mknod(base, mode, device, dir_fd=fd)
            except FileExistsError:
                fd = self._replace(fd, parent, base, name)
                os.mknod(base, mode, device, dir_fd=fd)
            self._attributes(fd, base, entry, plain)

    def _directory(
        self, fd: int, parent: str, base: str, name: str, entry: tf.TarEntry, plain: bool
    ) -> None:
        try:
            os.mkdir(base, 0o700, dir_fd=fd)
        except FileExistsError:
            if stat.S_ISDIR(os.lstat(base, dir_fd=fd).st_mode):
                plain = False  # kept from a lower layer: its owner is not ours to assume
            else:
                fd = self._replace(fd, parent, base, name)
                os.mkdir(base, 0o700, dir_fd=fd)
        self._dirs[name] = entry
        self._attributes(fd, base, entry, plain, mode=False, times=False)

    def _needs_chown(self, entry: tf.TarEntry, plain: bool) -> bool:
        """A file created by us in a plain directory already has our uid and gid."""
        return self.chown and (entry.uid != self.euid or entry.gid != self.egid or not plain)

    def _write_file(
        self,
        dir_fd: int,
        parent: str,
        base: str,
        name: str,
        entry: tf.TarEntry,
        reader: TarReader,
        plain: bool,
    ) -> None:
        mode = entry.mode
        try:
            fd = os.open(base, _FILE_FLAGS, mode & 0o777, dir_fd=dir_fd)
        except FileExistsError:
            dir_fd = self._replace(dir_fd, parent, base, name)
            fd = os.open(base, _FILE_FLAGS, mode & 0o777, dir_fd=dir_fd)
        try:
            reader.write_data(fd)
            if self._needs_chown(entry, plain):
                os.fchown(fd, entry.uid, entry.gid)
                os.fchmod(fd, mode)  # chown cleared any set-id bits
            elif mode & self._mode_fixup or not plain:  # special bits, umask, default ACL
                os.fchmod(fd, mode)
            if entry.xattrs:
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
            dir_fd = self._parent(parent, name)[0]
            try:
                _link(source_fd, target_base, dir_fd, base)
            except FileExistsError:
                dir_fd = self._replace(dir_fd, parent, base, name)
                _link(source_fd, target_base, dir_fd, base)
        except FileNotFoundError:
            raise LayerError(name, f"hardlink target {target!r} does not exist") from None
        finally:
            os.close(source_fd)

    def _attributes(
        self,
        dir_fd: int,
        base: str,
        entry: tf.TarEntry,
        plain: bool,
        mode: bool = True,
        times: bool = True,
    ) -> None:
        """Owner, then mode (chown clears set-id bits), xattrs and times of a non-file entry."""
        if self._needs_chown(entry, plain):
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


def _link(source_fd: int, source: str, dir_fd: int, base: str) -> None:
    os.link(source, base, src_dir_fd=source_fd, dst_dir_fd=dir_fd, follow_symlinks=False)


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, for every thread)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o777  # unknown: treat every bit as masked, so modes are always set explicitly


def _times(entry: tf.TarEntry) -> tuple[int, int]:
    return (entry.atime_ns if entry.atime_ns is not None else entry.mtime_ns, entry.mtime_ns)
