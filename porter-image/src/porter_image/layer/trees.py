"""One digest for a whole tree, to prove two unpacks (ours, umoci's, tar's) are the same.

Each entry below the root contributes a line: path, type, permission bits, owner, and what
the type has (content digest, link target, device numbers), its xattrs, and optionally its
mtime. The root itself is left out: its attributes belong to whoever created the directory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from porter_specs.digest import from_bytes, from_stream

from porter_image.layer.tree_walk import KINDS as _KINDS
from porter_image.layer.tree_walk import read_xattrs, walk


def _file_digest(path: str) -> str:
    with open(path, "rb", buffering=0) as src:
        return str(from_stream(src)[0])


def _describe(path: str, st: os.stat_result) -> str:
    fmt = stat.S_IFMT(st.st_mode)
    if fmt == stat.S_IFREG:
        return _file_digest(path)
    if fmt == stat.S_IFLNK:
        return "-> " + os.readlink(path)
    if fmt in (stat.S_IFCHR, stat.S_IFBLK):
        return f"{os.major(st.st_rdev)},{os.minor(st.st_rdev)}"
    return ""


def tree_listing(root: Path, mtimes: bool = False, xattrs: bool = True) -> list[str]:
    """The lines `tree_digest` hashes: readable, so a test can show what differs."""
    lines = []
    for rel, path, st in walk(root):
        fields = [
            os.fsencode(rel).decode("utf-8", "backslashreplace"),
            _KINDS.get(stat.S_IFMT(st.st_mode), "unknown"),
            format(stat.S_IMODE(st.st_mode), "04o"),
            f"{st.st_uid}:{st.st_gid}",
            _describe(path, st),
        ]
        if xattrs:
            attrs = read_xattrs(path)
            fields.append(",".join(f"{k}={v.hex()}" for k, v in attrs.items()))
        if mtimes:
            fields.append(str(st.st_mtime_ns // 1_000_000_000))
        lines.append("\t".join(fields))
    return lines


def tree_digest(root: Path, mtimes: bool = False, xattrs: bool = True) -> str:
    """A sha256 digest of `tree_listing(root)`: equal digests mean equal trees."""
    listing = "\n".join(tree_listing(root, mtimes=mtimes, xattrs=xattrs)).encode()
    return str(from_bytes(listing))
