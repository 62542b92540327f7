"""Resolving archive paths inside a destination directory without ever leaving it.

Entry names are cleaned lexically (a leading "/" or "./" is relative to the root, as the
image-spec reads them; ".." that climbs above the root is hostile). Parent directories are
then walked one component at a time with openat(O_NOFOLLOW): a symlink met on the way is
resolved by hand with the destination as its root, the way the container will see it
(an absolute target starts again at the destination, like securejoin and a chroot do), and a
relative target that climbs above the destination is refused. Every operation is then done
relative to a directory descriptor on a single name, so the kernel never follows a link out.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import OrderedDict
from pathlib import Path

from porter_image.layer.errors import HostileLayerError, LayerError

MAX_SYMLINKS = 40  # as the kernel's ELOOP limit
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CACHE_SIZE = 64


def clean(name: str, entry: str | None = None) -> str:
    """`name` as a clean relative path ("" for the root); hostile when it escapes the root."""
    rel = name[2:] if name.startswith("./") else name
    if not ("//" in rel or "/." in rel or "\0" in rel or rel.startswith((".", "/"))):
        return rel[:-1] if rel.endswith("/") else rel  # already clean: the common case
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise HostileLayerError(entry or name, "path escapes the destination")
            parts.pop()
        else:
            parts.append(part)
    if "\0" in name:
        raise HostileLayerError(entry or name, "path contains a NUL byte")
    return "/".join(parts)


def _plain(fd: int, st: os.stat_result) -> bool:
    """Whether files created in directory `fd` get no group or mode from it."""
    if st.st_mode & stat.S_ISGID:
        return False
    try:
        os.getxattr(fd, "system.posix_acl_default")
    except OSError as err:
        return err.errno in (errno.ENODATA, errno.ENOTSUP)
    return False


class RootedTree:
    """Directory descriptors for paths inside `root`, resolved as if `root` were "/".

    Descriptors of recently used directories are cached (tar entries come grouped by
    directory); `forget()` drops them whenever a directory or symlink is removed, since a
    cached path may then lead somewhere else.
    """

    def __init__(self, root: Path) -> None:
        self.root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        root_stat = os.fstat(self.root_fd)
        self.root_id = (root_stat.st_dev, root_stat.st_ino)
        self._root = (self.root_fd, root_stat.st_ino, _plain(self.root_fd, root_stat))
        self._cache: OrderedDict[str, tuple[int, int, bool]] = OrderedDict()

    def close(self) -> None:
        self.forget()
        os.close(self.root_fd)

    def forget(self) -> None:
        """Close every cached descriptor (the tree changed shape)."""
        for fd, _ino, _plain_dir in self._cache.values():
            os.close(fd)
        self._cache.clear()

    def directory(self, rel: str, create: bool, entry: str) -> tuple[int, int, bool] | None:
        """(descriptor, inode, plain) of directory `rel`, creating missing ones when `create`;
        None when it does not exist and `create` is false. The descriptor is borrowed.

        `plain` says that a file created in it gets exactly our uid, gid and its mode minus
        the umask (no setgid bit, no default ACL), so an applier may skip chown and chmod."""
        if not rel:
            return self._root
        cached = self._cache.get(rel)
        if cached is not None:
            self._cache.move_to_end(rel)
            return cached
        parent, _, name = rel.rpartition("/")
        found = self.directory(parent, create, entry)
        if found is None:
            return None
        fd = self._step(found[0], name, create, entry, [0])
        if fd is None:
            return None
        st = os.fstat(fd)
        result = (fd, st.st_ino, _plain(fd, st))
        self._cache[rel] = result
        if len(self._cache) > _CACHE_SIZE:
            _old, (old_fd, _ino, _plain_dir) = self._cache.popitem(last=False)
            os.close(old_fd)
        return result

    def _step(self, at: int, name: str, create: bool, entry: str, links: list[int]) -> int | None:
        """A new descriptor for directory `name` in `at`, following a symlink only inside."""
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=at)
        except FileNotFoundError:
            if not create:
                return None
            try:
                os.mkdir(name, 0o755, dir_fd=at)
            except OSError as err:
                raise LayerError(entry, f"cannot create parent {name!r}: {err.strerror}") from err
            return os.open(name, _DIR_FLAGS, dir_fd=at)
        except OSError as err:
            try:
                st = os.lstat(name, dir_fd=at)
            except OSError:
                raise LayerError(entry, f"cannot open parent {name!r}: {err.strerror}") from err
            if stat.S_ISDIR(st.st_mode):
                raise LayerError(entry, f"cannot open parent {name!r}: {err.strerror}") from err
            if not stat.S_ISLNK(st.st_mode):
                raise LayerError(entry, f"parent {name!r} is not a directory") from err
            links[0] += 1
            if links[0] > MAX_SYMLINKS:
                raise LayerError(entry, "too many levels of symbolic links") from err
            return self._follow(at, os.readlink(name, dir_fd=at), create, entry, links)

    def _follow(
        self, at: int, target: str, create: bool, entry: str, links: list[int]
    ) -> int | None:
        """Resolve a symlink's target component by component, with the root as "/"."""
        fd = os.dup(self.root_fd if target.startswith("/") else at)
        try:
            for part in target.split("/"):
                if part in ("", "."):
                    continue
                step: int | None
                if part == "..":
                    st = os.fstat(fd)
                    if (st.st_dev, st.st_ino) == self.root_id:
                        raise HostileLayerError(
                            entry,
                            f"symlink to {target!r} in its path points outside the destination",
                        )
                    step = os.open("..", _DIR_FLAGS, dir_fd=fd)
                else:
                    step = self._step(fd, part, create, entry, links)
                    if step is None:
                        return None
                os.close(fd)
                fd = step
            result, fd = fd, -1
            return result
        finally:
            if fd >= 0:
                os.close(fd)

    def proc_path(self, fd: int, name: str) -> str:
        """A path naming `name` in directory `fd`, for calls that take no dir_fd (xattrs)."""
        return f"/proc/self/fd/{fd}/{name}"
