"""Walking a directory tree in the one order every layer writer and tree digest uses.

Depth first, each directory's children sorted by the bytes of their names, a directory before
its contents: the order of Go's filepath.Walk, so our layers list entries as Docker's and
umoci's do, and the same tree always yields the same sequence.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from porter_image.layer.errors import LayerError

KINDS = {  # the names of file types in tree listings and digests
    stat.S_IFREG: "file",
    stat.S_IFDIR: "dir",
    stat.S_IFLNK: "symlink",
    stat.S_IFCHR: "char",
    stat.S_IFBLK: "block",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}


def _sorted_children(path: str) -> list[str]:
    try:
        names = os.listdir(path)
    except OSError as err:
        raise LayerError(path, f"cannot list directory: {err.strerror}") from err
    return sorted(names, key=os.fsencode)


def walk(root: Path | str) -> Iterator[tuple[str, str, os.stat_result]]:
    """(relative path, absolute path, lstat) of every entry below `root`, root excluded."""
    top = os.fspath(root)
    prefix = os.path.join(top, "")  # "top/": joined by hand per entry, which is faster
    stack: list[tuple[str, list[str], int]] = [("", _sorted_children(top), 0)]
    while stack:
        rel_dir, names, index = stack.pop()
        if index >= len(names):
            continue
        stack.append((rel_dir, names, index + 1))
        rel = f"{rel_dir}/{names[index]}" if rel_dir else names[index]
        path = prefix + rel
        try:
            st = os.lstat(path)
        except OSError as err:
            raise LayerError(rel, f"cannot stat: {err.strerror}") from err
        yield rel, path, st
        if stat.S_ISDIR(st.st_mode):
            stack.append((rel, _sorted_children(path), 0))


def read_xattrs(path: str) -> dict[str, bytes]:
    """Extended attributes of `path` itself (symlinks not followed), sorted by name."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as err:
        if err.errno in (errno.ENOTSUP, errno.EPERM):
            return {}
        raise LayerError(path, f"cannot list xattrs: {err.strerror}") from err
    values: dict[str, bytes] = {}
    for name in sorted(names):
        try:
            values[name] = os.getxattr(path, name, follow_symlinks=False)
        except OSError as err:
            if err.errno == errno.ENODATA:
                continue
            raise LayerError(path, f"cannot read xattr {name}: {err.strerror}") from err
    return values
