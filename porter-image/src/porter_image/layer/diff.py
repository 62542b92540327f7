"""The changes from one tree to another as a layer (`porter-image repack`).

Both trees are walked together in layer order. An entry is written when it is new, or when
its type, mode, owner, xattrs, link target, device numbers, size or mtime differ (an mtime or
size change is taken as a content change, as umoci and rsync do, rather than reading both
trees in full). A path gone from `modified` becomes a `.wh.` whiteout. A directory replaced by
a non-directory is written as the non-directory (applying removes the old directory); a
non-directory replaced by a directory is written with its whole content. Every directory that
holds a change is written too, before it, so applying the diff onto a bare tree works and
directory times come out as they are in `modified`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from porter_image.layer import tar_format as tf
from porter_image.layer.compression import LayerSink
from porter_image.layer.errors import LayerError
from porter_image.layer.options import LayerResult, TarOptions
from porter_image.layer.tar_writer import TarWriter
from porter_image.layer.tree_walk import read_xattrs, walk

WHITEOUT = ".wh."


def _children(path: str) -> dict[str, None]:
    try:
        return dict.fromkeys(os.listdir(path))
    except OSError as err:
        raise LayerError(path, f"cannot list directory: {err.strerror}") from err


class _TreeDiff:
    def __init__(self, base: str, modified: str, writer: TarWriter, options: TarOptions) -> None:
        self.base = base
        self.modified = modified
        self.writer = writer
        self.options = options
        self._pending: list[list] = []  # [rel, path, stat, written] of enclosing directories

    def _flush(self) -> None:
        for item in self._pending:
            if not item[3]:
                self.writer.add(item[0], item[1], item[2])
                item[3] = True

    def _emit(self, rel: str, path: str, st: os.stat_result) -> None:
        self._flush()
        self.writer.add(rel, path, st)

    def _whiteout(self, parent: str, name: str) -> None:
        self._flush()
        rel = f"{parent}/{WHITEOUT}{name}" if parent else WHITEOUT + name
        mtime = self.options.mtime or 0
        self.writer.add_entry(tf.TarEntry(name=rel, mode=0, mtime_ns=mtime * 1_000_000_000))

    def _add_tree(self, rel: str, path: str, st: os.stat_result) -> None:
        self._emit(rel, path, st)
        if stat.S_ISDIR(st.st_mode):
            for sub_rel, sub_path, sub_st in walk(path):
                self.writer.add(f"{rel}/{sub_rel}", sub_path, sub_st)

    def compare(self, rel: str) -> None:
        """Write the differences below directory `rel`, present as a directory in both trees."""
        base_dir = os.path.join(self.base, rel)
        mod_dir = os.path.join(self.modified, rel)
        base_names = _children(base_dir)
        mod_names = _children(mod_dir)
        for name in sorted(base_names.keys() | mod_names.keys(), key=os.fsencode):
            child = f"{rel}/{name}" if rel else name
            if name not in mod_names:
                self._whiteout(rel, name)
                continue
            mod_path = os.path.join(mod_dir, name)
            mod_st = os.lstat(mod_path)
            if name not in base_names:
                self._add_tree(child, mod_path, mod_st)
                continue
            base_path = os.path.join(base_dir, name)
            base_st = os.lstat(base_path)
            changed = self._differs(base_path, base_st, mod_path, mod_st)
            both_dirs = stat.S_ISDIR(mod_st.st_mode) and stat.S_ISDIR(base_st.st_mode)
            if both_dirs:
                self._pending.append([child, mod_path, mod_st, False])
                if changed:
                    self._flush()
                self.compare(child)
                self._pending.pop()
            elif changed:
                self._add_tree(child, mod_path, mod_st)
            else:
                self.writer.note(child, mod_st)

    def _differs(self, a_path: str, a: os.stat_result, b_path: str, b: os.stat_result) -> bool:
        if (a.st_mode, a.st_uid, a.st_gid) != (b.st_mode, b.st_uid, b.st_gid):
            return True
        fmt = stat.S_IFMT(a.st_mode)
        if fmt in (stat.S_IFREG, stat.S_IFDIR) and a.st_mtime_ns != b.st_mtime_ns:
            return True
        if fmt == stat.S_IFREG and a.st_size != b.st_size:
            return True
        if fmt == stat.S_IFLNK and os.readlink(a_path) != os.readlink(b_path):
            return True
        if fmt in (stat.S_IFCHR, stat.S_IFBLK) and a.st_rdev != b.st_rdev:
            return True
        return self.options.xattrs and read_xattrs(a_path) != read_xattrs(b_path)


def write_diff_layer(
    base: Path,
    modified: Path,
    out: BinaryIO,
    compression: str = "gzip",
    options: TarOptions = TarOptions(),  # noqa: B008 - frozen, so a shared default is safe
) -> LayerResult:
    """The changes from `base` to `modified` as a layer, with `.wh.` whiteouts for deletions."""
    for root in (base, modified):
        if not os.path.isdir(root):
            raise LayerError(os.fspath(root), "not a directory")
    writer = TarWriter(LayerSink(out, compression), options)
    _TreeDiff(os.fspath(base), os.fspath(modified), writer, options).compare("")
    return writer.close()
