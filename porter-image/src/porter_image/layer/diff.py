"""The changes made to a tree since its listing was recorded, as a layer (`porter-image repack`).

The tree is walked in layer order beside the listing (both in `tree_walk` order, so the two
are merged as streams, in constant memory). A path is written when it is new, or when its
record differs from the listed one (see `porter_image.layer.listing` for why the ctime and
inode number make that test complete without hashing). A listed path gone from the tree
becomes a `.wh.` whiteout. A directory replaced by a non-directory is written as the
non-directory (applying removes the old directory); a non-directory replaced by a directory
is written with its whole content. Every directory that holds a change is written too,
before it, so applying the diff onto a bare tree works and directory times come out as they
are in the tree. Meanwhile the listing of the tree as it is now is written, for the next
repack.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from porter_image.layer import tar_format as tf
from porter_image.layer.compression import LayerSink
from porter_image.layer.errors import LayerError
from porter_image.layer.listing import ListingWriter, Record
from porter_image.layer.options import LayerResult, TarOptions
from porter_image.layer.tar_writer import TarWriter
from porter_image.layer.tree_walk import walk

WHITEOUT = ".wh."


def _sorted_children(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path), key=os.fsencode)
    except OSError as err:
        raise LayerError(path, f"cannot list directory: {err.strerror}") from err


class _Listed:
    """The listing as a stream with one record of look-ahead."""

    def __init__(self, records: Iterator[Record]) -> None:
        self._records = records
        self.head = next(records, None)

    def child_of(self, prefix: str) -> str | None:
        """The name of the next listed path if it lies under `prefix` ("" or "dir/")."""
        head = self.head
        if head is None or not head.path.startswith(prefix):
            return None
        return head.path[len(prefix) :]

    def pop(self) -> Record:
        record = self.head
        assert record is not None
        self.head = next(self._records, None)
        return record

    def skip_below(self, path: str) -> None:
        prefix = path + "/"
        while self.head is not None and self.head.path.startswith(prefix):
            self.head = next(self._records, None)


class _ListingDiff:
    def __init__(
        self,
        root: str,
        listed: _Listed,
        writer: TarWriter,
        options: TarOptions,
        recorder: ListingWriter | None,
    ) -> None:
        self.root = root
        self.listed = listed
        self.writer = writer
        self.options = options
        self.recorder = recorder
        self._pending: list[list] = []  # [rel, path, stat, written] of enclosing directories

    def _record(self, record: Record) -> None:
        if self.recorder is not None:
            self.recorder.add(record)

    def _flush(self) -> None:
        for item in self._pending:
            if not item[3]:
                self.writer.add(item[0], item[1], item[2])
                item[3] = True

    def _whiteout(self, parent: str, name: str) -> None:
        self._flush()
        rel = f"{parent}/{WHITEOUT}{name}" if parent else WHITEOUT + name
        mtime = self.options.mtime or 0
        self.writer.add_entry(tf.TarEntry(name=rel, mode=0, mtime_ns=mtime * 1_000_000_000))

    def _add_tree(self, record: Record, path: str, st: os.stat_result) -> None:
        self._flush()
        self.writer.add(record.path, path, st)
        self._record(record)
        if stat.S_ISDIR(st.st_mode):
            for sub_rel, sub_path, sub_st in walk(path):
                rel = f"{record.path}/{sub_rel}"
                self.writer.add(rel, sub_path, sub_st)
                self._record(Record.of(rel, sub_path, sub_st))

    def compare(self, rel: str) -> None:
        """Write the differences below directory `rel`, a directory in the listing and now."""
        prefix = f"{rel}/" if rel else ""
        names = _sorted_children(os.path.join(self.root, rel))
        index = 0
        while True:
            old = self.listed.child_of(prefix)
            new = names[index] if index < len(names) else None
            if old is None and new is None:
                return
            if old is not None and (new is None or os.fsencode(old) < os.fsencode(new)):
                self.listed.skip_below(self.listed.pop().path)
                self._whiteout(rel, old)
                continue
            assert new is not None
            index += 1
            self._visit(prefix + new, old == new)

    def _visit(self, child: str, listed: bool) -> None:
        path = os.path.join(self.root, child)
        try:
            st = os.lstat(path)
        except OSError as err:
            raise LayerError(child, f"cannot stat: {err.strerror}") from err
        now = Record.of(child, path, st)
        if not listed:
            self._add_tree(now, path, st)
            return
        before = self.listed.pop()
        changed = now != before
        if now.kind == "dir" and before.kind == "dir":
            self._record(now)
            self._pending.append([child, path, st, False])
            if changed:
                self._flush()
            self.compare(child)
            self._pending.pop()
            return
        if before.kind == "dir":
            self.listed.skip_below(before.path)
        if changed:
            self._add_tree(now, path, st)
        else:
            self.writer.note(child, st)
            self._record(now)


def write_changes(
    root: Path,
    listing: Iterator[Record],
    out: BinaryIO,
    compression: str = "gzip",
    options: TarOptions = TarOptions(),  # noqa: B008 - frozen, so a shared default is safe
    recorder: ListingWriter | None = None,
) -> LayerResult:
    """The changes from `listing` to the tree under `root` as a layer, with `.wh.` whiteouts
    for deletions; the tree's new listing goes to `recorder` when one is given."""
    if not os.path.isdir(root):
        raise LayerError(os.fspath(root), "not a directory")
    writer = TarWriter(LayerSink(out, compression), options)
    _ListingDiff(os.fspath(root), _Listed(listing), writer, options, recorder).compare("")
    return writer.close()
