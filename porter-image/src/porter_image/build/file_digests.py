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

Each memo file names its folder on its first line, so that memos of folders that are gone (CI
checkouts at a new path each time, removed contexts) can be found and removed without reading
their entries: all of them by `porter-image gc`, and a few in turn by each build (`prune`),
more than the build wrote, so that their number stays bounded without a gc.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import OrderedDict
from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any

from porter_image.build.cache import BUILD_FOLDER

MIN_SIZE = 64 << 10
SETTLED_NS = 1_000_000_000
MEMO = "file-digests"  # the memo's folder in the layout's build folder
PRUNED = 32  # memos a build checks beyond twice those it wrote
CURSOR = "next-pruned"  # the memo a build's prune starts after, as "shard/name"
HEADER = 1 << 16  # the longest first line read: a folder's path, as JSON


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
        self.written = 0  # memo files this build wrote
        self.error: OSError | None = None  # the first memo write or prune that failed

    @classmethod
    def of_layout(cls, layout: str | os.PathLike[str]) -> FileDigests:
        """The memo kept with the layout at `layout`."""
        return cls(Path(layout) / BUILD_FOLDER / MEMO)

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
        name = os.fsdecode(folder)
        return _FolderMemo.read(name, self.memo_file(name))

    def save(self) -> None:
        """Write the memo of each folder where files were hashed and remembered since."""
        while self._open:
            self._close(self._open.popitem(last=False)[1])

    def close(self) -> OSError | None:
        """Save, then prune a few memos: more than were written, so that they stay bounded.
        This is housekeeping, done once the image is made: an error (the layout's build
        folder removed meanwhile, a memo folder that cannot be written) never fails the
        build; the first one met since the memo was opened is returned, for a warning."""
        self.save()
        try:
            self.prune(PRUNED + 2 * self.written)
        except OSError as exc:
            self.error = self.error or exc
        return self.error

    def prune(self, most: int | None = None) -> list[str]:
        """Remove the memos of folders that no longer exist (and the single memo file of
        before); check all of them, or `most`, starting after the last one a prune checked,
        so that each gets its turn. The folders whose memos were removed."""
        self.memo.with_suffix(".json").unlink(missing_ok=True)
        cursor = self.memo / CURSOR
        try:
            after = cursor.read_text() if most is not None else ""
        except OSError:
            after = ""
        checked, removed = "", []
        for checked in islice(self._in_turn(after), most):
            folder = _folder_of(self.memo / checked)
            if folder is None or not os.path.isdir(folder):
                (self.memo / checked).unlink(missing_ok=True)
                removed.append(folder or checked)
        if most is not None and checked:
            from porter_image.layout.atomic import write_file_atomic

            write_file_atomic(cursor, checked.encode())
        return removed

    def _in_turn(self, after: str) -> Iterator[str]:
        """The memo files as "shard/name", those after `after` first, then the rest."""
        try:
            shards = sorted(entry for entry in os.listdir(self.memo) if len(entry) == 2)
        except OSError:
            return iter(())
        first = after.partition("/")[0]

        def memos(shard: str, keep: bool) -> Iterator[str]:
            try:
                names = sorted(os.listdir(self.memo / shard))
            except OSError:
                return
            for name in names:
                path = f"{shard}/{name}"
                if name.endswith(".json") and (path > after) is keep:
                    yield path

        later = (path for shard in shards if shard >= first for path in memos(shard, True))
        earlier = (path for shard in shards if shard <= first for path in memos(shard, False))
        return chain(later, earlier)

    def _close(self, memo: _FolderMemo) -> None:
        """Write `memo`; one that cannot be written is left out (the memo is a cache)."""
        try:
            if memo.save():
                self.written += 1
        except OSError as exc:
            self.error = self.error or exc

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
            self._close(self._open.popitem(last=False)[1])
        return memo


class _FolderMemo:
    """The entries of one folder's files: those read from its memo file, those added."""

    def __init__(self, folder: str, file: Path) -> None:
        self.folder = folder
        self.file = file
        self.known = self.read(folder, file)
        self.added: dict[str, list[Any]] = {}

    @staticmethod
    def read(folder: str, file: Path) -> dict[str, list[Any]]:
        """The entries of the memo `file`, if it is `folder`'s."""
        try:
            header, _, body = file.read_bytes().partition(b"\n")
            document = json.loads(body) if _folder_in(header) == folder else None
        except (OSError, ValueError):
            return {}
        return document if isinstance(document, dict) else {}

    def save(self) -> bool:
        """Write the memo if something was added to it; whether it was written."""
        if not self.added:
            return False
        from porter_image.layout.atomic import write_file_atomic

        kept = {
            name: entry
            for name, entry in self.known.items()
            if _unchanged(os.path.join(self.folder, name), entry)
        }
        self.file.parent.mkdir(parents=True, exist_ok=True)
        header = json.dumps({"folder": self.folder})
        document = json.dumps({**kept, **self.added})
        write_file_atomic(self.file, f"{header}\n{document}\n".encode())
        self.known, self.added = {**kept, **self.added}, {}
        return True


def _folder_of(file: Path) -> str | None:
    """The folder the memo `file` is of, as its first line says; None if it says none."""
    try:
        with open(file, "rb") as memo:
            return _folder_in(memo.readline(HEADER))
    except OSError:
        return None


def _folder_in(header: bytes) -> str | None:
    try:
        document = json.loads(header)
    except ValueError:
        return None
    folder = document.get("folder") if isinstance(document, dict) else None
    return folder if isinstance(folder, str) else None


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
