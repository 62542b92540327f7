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
from porter_image.layer.sorted_names import sorted_names

KINDS = {  # the names of file types in tree listings and digests
    stat.S_IFREG: "file",
    stat.S_IFDIR: "dir",
    stat.S_IFLNK: "symlink",
    stat.S_IFCHR: "char",
    stat.S_IFBLK: "block",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}


def _sorted_children(path: str) -> Iterator[str]:
    """The names in a folder, in order, streamed (a huge folder is never listed whole)."""
    try:
        return sorted_names(path)
    except OSError as err:
        raise LayerError(path, f"cannot list directory: {err.strerror}") from err


def walk(root: Path | str) -> Iterator[tuple[str, str, os.stat_result]]:
    """(relative path, absolute path, lstat) of every entry below `root`, root excluded."""
    top = os.fspath(root)
    prefix = os.path.join(top, "")  # "top/": joined by hand per entry, which is faster
    stack: list[tuple[str, Iterator[str]]] = [("", _sorted_children(top))]
    while stack:
        rel_dir, names = stack[-1]
        name = next(names, None)
        if name is None:
            stack.pop()
            continue
        rel = f"{rel_dir}/{name}" if rel_dir else name
        path = prefix + rel
        try:
            st = os.lstat(path)
        except OSError as err:
            raise LayerError(rel, f"cannot stat: {err.strerror}") from err
        yield rel, path, st
        if stat.S_ISDIR(st.st_mode):
            stack.append((rel, _sorted_children(path)))


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
