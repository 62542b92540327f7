"""A listing of a tree as it was unpacked, so that `repack` can find what changed since.

umoci keeps an mtree manifest for this; Porter keeps the same idea in a gzip'd JSON-lines
file: a header line, then one line per path in `tree_walk` order (depth first, names sorted
by their bytes) with the path's type, permission bits, owner, size, mtime, link target,
device numbers, and its inode number, link count and ctime.

What detects a change is the **ctime** (with the inode number): the kernel moves a file's
ctime forward on every write, truncate, chmod, chown, xattr change, link and rename, and no
system call lets user space set it back (`touch -d` sets mtime and atime, and that moves the
ctime too). A file edited in place with its size and mtime restored is therefore still seen,
without hashing: no digest of every file is computed at unpack (which would cost a second
sha256 pass beside the diff_id's) and none is recomputed at repack (umoci's sha256digest
keyword re-reads the whole tree). The price is over-inclusion, never omission: an entry whose
ctime moved with nothing else changed (chmod to the same mode, a new hardlink to it) is
written again, as overlayfs's copy-up puts such a file into a Docker layer too. xattrs and
content are not recorded for the same reason: any change to them moves the ctime.

The kernel stamps ctimes from a clock that ticks every few milliseconds; after recording, we
wait for that clock to pass the newest ctime seen, so that a change made just after the
listing cannot carry the same ctime as the recorded state.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from porter_image.layer.errors import LayerError
from porter_image.layer.tree_walk import KINDS as _KINDS
from porter_image.layer.tree_walk import walk

FORMAT = "porter-image.listing/v1"
KEYWORDS = ("type", "mode", "uid", "gid", "size", "mtime", "link", "rdev", "ino", "nlink", "ctime")
_COARSE_CLOCK = getattr(time, "CLOCK_REALTIME_COARSE", 5)  # Linux's id, absent from `time`
_MAX_SETTLE_S = 0.1
_BATCH = 256  # lines handed to gzip at once
_string = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


class Record(NamedTuple):
    """One path of the tree: what `repack` compares (equal records: unchanged path).

    A named tuple rather than a frozen dataclass: a tree has one per path, and building a
    tuple costs a fraction of a frozen dataclass's field-by-field `__init__`."""

    path: str
    kind: str
    mode: int
    uid: int
    gid: int
    size: int
    mtime_ns: int
    link: str
    rdev: int
    ino: int
    nlink: int
    ctime_ns: int

    @classmethod
    def of(cls, rel: str, path: str, st: os.stat_result) -> Record:
        """The record of `path` (relative name `rel`) from its lstat."""
        fmt = stat.S_IFMT(st.st_mode)
        kind = _KINDS.get(fmt, "unknown")
        try:
            link = os.readlink(path) if fmt == stat.S_IFLNK else ""
        except OSError as err:
            raise LayerError(rel, f"cannot read link: {err.strerror}") from err
        return cls(
            rel,
            kind,
            stat.S_IMODE(st.st_mode),
            st.st_uid,
            st.st_gid,
            st.st_size if fmt == stat.S_IFREG else 0,
            st.st_mtime_ns,
            link,
            st.st_rdev if fmt in (stat.S_IFCHR, stat.S_IFBLK) else 0,
            st.st_ino,
            st.st_nlink,
            st.st_ctime_ns,
        )

    def line(self) -> str:
        """A JSON array on one line (formatted by hand: json.dumps is the slow part here)."""
        return (
            f'[{_string(self.path)},"{self.kind}",{self.mode},{self.uid},{self.gid},'
            f"{self.size},{self.mtime_ns},{_string(self.link)},{self.rdev},{self.ino},"
            f"{self.nlink},{self.ctime_ns}]\n"
        )

    @classmethod
    def parse(cls, line: bytes, where: str) -> Record:
        try:
            path, kind, mode, uid, gid, size, mtime, link, rdev, ino, nlink, ctime = json.loads(
                line
            )
            return cls(
                str(path), str(kind), int(mode), int(uid), int(gid), int(size), int(mtime),
                str(link), int(rdev), int(ino), int(nlink), int(ctime),
            )  # fmt: skip
        except (ValueError, TypeError) as err:
            raise LayerError(where, f"listing line is invalid: {err}") from err


class ListingWriter:
    """Writes a listing to a temp file beside `path`; `commit()` renames it into place.

    Records must come in `tree_walk` order (the order `repack` reads them back in).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        fd, temp = tempfile.mkstemp(prefix=".porter-listing-", dir=path.parent)
        self._temp = Path(temp)
        self._raw: IO[bytes] = os.fdopen(fd, "wb")
        self._out = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=1, mtime=0)
        self._newest_ctime = 0
        self._lines: list[str] = []
        header = {"format": FORMAT, "keywords": list(KEYWORDS)}
        self._out.write(json.dumps(header, sort_keys=True).encode() + b"\n")

    def add(self, record: Record) -> None:
        self._lines.append(record.line())
        if record.ctime_ns > self._newest_ctime:
            self._newest_ctime = record.ctime_ns
        if len(self._lines) >= _BATCH:
            self._write_lines()

    def _write_lines(self) -> None:
        self._out.write("".join(self._lines).encode("ascii"))
        self._lines.clear()

    def commit(self, path: Path | None = None) -> Path:
        """Finish, make durable and rename to `path` (default: the one given at creation).
        Then wait until a change made from now on gets a later ctime than any recorded."""
        target = path or self.path
        self._write_lines()
        self._out.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.chmod(self._temp, 0o644)
        os.replace(self._temp, target)
        _settle(self._newest_ctime)
        return target

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._out.close()
            self._raw.close()
        with contextlib.suppress(FileNotFoundError):
            self._temp.unlink()


def _settle(newest_ctime_ns: int) -> None:
    """Wait (a few ms at most) until the kernel's timestamp clock is past `newest_ctime_ns`."""
    deadline = time.monotonic() + _MAX_SETTLE_S
    while time.clock_gettime_ns(_COARSE_CLOCK) <= newest_ctime_ns:
        if time.monotonic() > deadline:
            return  # a clock set back: nothing to wait for that would help
        time.sleep(0.001)


def record_tree(root: Path, path: Path) -> Path:
    """Write the listing of the tree under `root` (root itself excluded) to `path`."""
    writer = ListingWriter(path)
    try:
        for rel, full, st in walk(root):
            writer.add(Record.of(rel, full, st))
        return writer.commit()
    except BaseException:
        writer.discard()
        raise


def read_listing(path: Path) -> Iterator[Record]:
    """The records of a listing, in order, streamed (the file is never loaded whole)."""
    where = os.fspath(path)
    try:
        with gzip.open(path, "rb") as lines:
            header: Any = json.loads(lines.readline() or b"null")
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise LayerError(where, f"not a listing in the {FORMAT} format")
            for line in lines:
                yield Record.parse(line, where)
    except (OSError, EOFError, ValueError) as err:
        if isinstance(err, LayerError):
            raise
        raise LayerError(where, f"cannot read listing: {err}") from err
