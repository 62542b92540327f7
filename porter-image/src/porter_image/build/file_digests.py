"""The sha256 of context files, remembered by their inode's stat so that a rebuild does not
read unchanged files again (git's index does the same for `git status`).

An entry is used only when the file's (dev, ino, size, mtime_ns, ctime_ns) are exactly those
seen when it was hashed. Any write, rename onto the path, chmod, chown or utime changes the
ctime, which no user can set, so a changed file never matches. A file changed in the very
tick it was hashed could keep its ctime (the kernel's clock is coarse), so only files whose
ctime was already `SETTLED_NS` old when they were hashed are remembered. Small files are
hashed every time: reading them costs less than remembering them.

The memo is one JSON file with the layout's build cache; entries for paths that are gone or
changed are dropped whenever it is rewritten, and it is rewritten only when something new was
hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
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
    def __init__(self, memo: Path, settled_ns: int = SETTLED_NS) -> None:
        self.memo = memo
        self.settled_ns = settled_ns
        self._known: dict[str, list[Any]] | None = None
        self._added: dict[str, list[Any]] = {}

    @property
    def known(self) -> dict[str, list[Any]]:
        if self._known is None:
            try:
                document = json.loads(self.memo.read_bytes())
            except (OSError, ValueError):
                document = None
            self._known = document if isinstance(document, dict) else {}
        return self._known

    def digest(self, path: Path, st: os.stat_result) -> bytes:
        """The sha256 of the regular file at `path`, whose lstat is `st`."""
        if st.st_size < MIN_SIZE:
            return hash_file(path)
        key, stamp = os.fsdecode(path), _stamp(st)
        entry = self.known.get(key)
        if isinstance(entry, list) and len(entry) == 6 and entry[:5] == stamp:
            remembered = _digest_of(entry[5])
            if remembered is not None:
                return remembered
        settled = st.st_ctime_ns <= time.time_ns() - self.settled_ns
        digest = hash_file(path)
        if settled:
            self._added[key] = [*stamp, digest.hex()]
        return digest

    def save(self) -> None:
        """Write the memo when files were hashed and remembered since it was read."""
        if not self._added:
            return
        from porter_image.layout.atomic import write_file_atomic

        kept = {key: entry for key, entry in self.known.items() if _unchanged(key, entry)}
        document = {**kept, **self._added}
        self.memo.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(self.memo, json.dumps(document).encode())
        self._known, self._added = document, {}


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
