"""The sha256 of context files, remembered by their inode's stat so that a rebuild does not
read unchanged files again (git's index does the same for `git status`).

An entry is used only when the file's (dev, ino, size, mtime_ns, ctime_ns) are exactly those
seen when it was hashed. Any write, rename onto the path, chmod, chown or utime changes the
ctime, which no user can set, so a changed file never matches. A file changed in the very
tick it was hashed could keep its ctime (the kernel's clock is coarse), so only files whose
ctime was already `SETTLED_NS` old when they were hashed are remembered. Small files are
hashed every time: reading them costs less than remembering them.

The memo is a folder with the layout's build cache holding one small JSON file per context
folder (named by the sha256 of the folder's path), so that memory holds the entries of a few
folders at a time (the folders the walk is in, which may come back to one after a subfolder),
never those of a whole context. A folder's file is rewritten when something new was hashed
there, dropping the entries of its files that are gone or changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

MIN_SIZE = 64 << 10
SETTLED_NS = 1_000_000_000


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def hash_file(path: Path) -> bytes:
    with open(path, "rb", buffering=0) as src:
        return hashlib.file_digest(src, "sha256").digest()


class FileDigests:
    def __init__(self, memo: Path, settled_ns: int = SETTLED_NS, folders: int = 64) -> None:
        self.memo = memo
        self.settled_ns = settled_ns
        self.folders = folders  # how many folders' entries are held at most
        self._open: OrderedDict[str, _FolderMemo] = OrderedDict()

    def digest(self, path: Path, st: os.stat_result) -> bytes:
        """The sha256 of the regular file at `path`, whose lstat is `st`."""
        if st.st_size < MIN_SIZE:
            return hash_file(path)
        folder, name = os.path.split(os.fsdecode(path))
        memo, stamp = self._folder(folder), _stamp(st)
        entry = memo.known.get(name)
        if isinstance(entry, list) and len(entry) == 6 and entry[:5] == stamp:
            remembered = _digest_of(entry[5])
            if remembered is not None:
                return remembered
        settled = st.st_ctime_ns <= time.time_ns() - self.settled_ns
        digest = hash_file(path)
        if settled:
            memo.added[name] = [*stamp, digest.hex()]
        return digest

    def entries(self, folder: Path) -> dict[str, list[Any]]:
        """The remembered entries of the files in `folder`, by name, as saved."""
        return _FolderMemo.read(self.memo_file(os.fsdecode(folder)))

    def save(self) -> None:
        """Write the memo of each folder where files were hashed and remembered since."""
        while self._open:
            self._open.popitem(last=False)[1].save()

    def memo_file(self, folder: str) -> Path:
        """Where the entries of `folder`'s files are kept."""
        name = hashlib.sha256(os.fsencode(folder)).hexdigest()
        return self.memo / name[:2] / f"{name[2:]}.json"

    def _folder(self, folder: str) -> _FolderMemo:
        memo = self._open.get(folder)
        if memo is not None:
            self._open.move_to_end(folder)
            return memo
        memo = self._open[folder] = _FolderMemo(folder, self.memo_file(folder))
        if len(self._open) > self.folders:
            self._open.popitem(last=False)[1].save()
        return memo


class _FolderMemo:
    """The entries of one folder's files: those read from its memo file, those added."""

    def __init__(self, folder: str, file: Path) -> None:
        self.folder = folder
        self.file = file
        self.known = self.read(file)
        self.added: dict[str, list[Any]] = {}

    @staticmethod
    def read(file: Path) -> dict[str, list[Any]]:
        try:
            document = json.loads(file.read_bytes())
        except (OSError, ValueError):
            return {}
        return document if isinstance(document, dict) else {}

    def save(self) -> None:
        if not self.added:
            return
        from porter_image.layout.atomic import write_file_atomic

        kept = {
            name: entry
            for name, entry in self.known.items()
            if _unchanged(os.path.join(self.folder, name), entry)
        }
        self.file.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(self.file, json.dumps({**kept, **self.added}).encode())
        self.known, self.added = {**kept, **self.added}, {}


def _digest_of(text: Any) -> bytes | None:
    try:
        digest = bytes.fromhex(text)
    except (TypeError, ValueError):
        return None
    return digest if len(digest) == 32 else None


def _unchanged(path: str, entry: Any) -> bool:
    try:
        return isinstance(entry, list) and _stamp(os.lstat(path)) == entry[:5]
    except OSError:
        return False
