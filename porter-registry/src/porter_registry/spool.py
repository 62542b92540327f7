"""Request bodies spooled beside the upload store and hashed as they arrive.

waitress reads a whole request body before it calls the app, keeping a body past
`inbuf_overflow` in a temporary file. In the system's temp folder, an upload was written twice
(spool, then the session's `data`) and read back once, and hashing began only when receiving
ended. Here the spool is an unnamed file (`O_TMPFILE`) in `_spool/` of the data folder, so it is
on the upload store's filesystem, and its sha256 grows with every write as bytes arrive. An
upload that starts a session (a monolithic PUT or POST, or a first PATCH) is then linked into the
session as it is: no copy, and its hash already known (see `UploadStore.append_locked`).

An unnamed file vanishes by itself when closed or when the process dies, so a crash leaves no
spool behind. Where `O_TMPFILE` is missing, the spool is a named file unlinked at once; it cannot
be linked, and uploads fall back to copying it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from waitress.buffers import FileBasedBuffer, OverflowableBuffer
from waitress.parser import HTTPRequestParser

SPOOL_FOLDER = "_spool"
READ_BYTES = 1 << 20


def _open_unnamed(folder: str) -> tuple[int, bool]:
    """A new read-write file in `folder` with no name: (fd, whether linkat can name it)."""
    with contextlib.suppress(OSError, AttributeError):
        # Without O_EXCL, so that linkat may give it a name later; the mode is what open(2)
        # would give a new file, umask applied.
        return os.open(folder, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o666), True
    path = os.path.join(folder, f".tmp-{uuid.uuid4().hex}")
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_CLOEXEC, 0o600)
    os.unlink(path)
    return fd, False


class SpooledBody(io.FileIO):
    """A request body's spool file: hashes (sha256) what is appended to it, in order."""

    def __init__(self, folder: str) -> None:
        fd, self.linkable = _open_unnamed(folder)
        super().__init__(fd, "r+b", closefd=True)
        self._hasher: Any = hashlib.sha256()
        self._hashed = 0

    def write(self, data: Any) -> int:
        """Write all of `data` (waitress ignores short writes) and hash it if it extends the
        hashed prefix; a write anywhere else makes the hash unknown."""
        view = memoryview(data).cast("B")
        in_order = self._hasher is not None and self.tell() == self._hashed
        if not in_order:
            self._hasher = None
        while view:
            written = super().write(view) or 0
            if in_order:
                self._hasher.update(view[:written])
                self._hashed += written
            view = view[written:]
        return len(data)

    @property
    def size(self) -> int:
        return os.fstat(self.fileno()).st_size

    def sha256(self) -> Any | None:
        """A copy of the running sha256 of the whole file, or None when it is not known."""
        if self._hasher is None or self._hashed != self.size:
            return None
        return self._hasher.copy()


class SpooledRequestBody:
    """A request body that waitress has fully received into a `SpooledBody`.

    Iterating yields its bytes in large reads (for the copying path); `file`, `size` and
    `sha256()` let the upload store link it into a session instead (the `LocalFileBody` shape).
    """

    def __init__(self, file: SpooledBody) -> None:
        self.file = file
        self.size = file.size

    @property
    def linkable(self) -> bool:
        return self.file.linkable

    def fileno(self) -> int:
        return self.file.fileno()

    def sha256(self) -> Any | None:
        return self.file.sha256()

    def __iter__(self) -> Iterator[bytes]:
        self.file.seek(0)
        while chunk := self.file.read(READ_BYTES):
            yield chunk


def spooled_body(stream: object) -> SpooledRequestBody | None:
    """The body behind a WSGI input stream, when it is a spool no one has read from yet."""
    if isinstance(stream, SpooledBody) and not stream.closed and stream.tell() == 0:
        return SpooledRequestBody(stream)
    return None


class SpoolingBuffer(OverflowableBuffer):
    """waitress's body buffer, overflowing into a `SpooledBody` in `folder`."""

    def __init__(self, overflow: int, folder: str) -> None:
        super().__init__(overflow)
        self.folder = folder

    def _set_large_buffer(self) -> None:
        old: Any = self.buf  # type: ignore[has-type]
        self.buf = FileBasedBuffer(SpooledBody(self.folder), old)
        if old is not None:
            old.close()
        self.overflowed = True


class SpoolingRequestParser(HTTPRequestParser):
    """waitress's request parser with bodies spooled to `spool_folder` (set by a subclass)."""

    spool_folder = ""

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        # No body byte has been buffered yet: the receiver gets its bytes after the headers.
        if self.body_rcv is not None and self.spool_folder:
            self.body_rcv.buf = SpoolingBuffer(self.adj.inbuf_overflow, self.spool_folder)


def prepare_spool(data: str | os.PathLike[str]) -> str:
    """Create (or empty) the spool folder of a data folder; return its path."""
    folder = Path(data) / SPOOL_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.iterdir():
        with contextlib.suppress(OSError):
            leftover.unlink()
    return str(folder)


def spooling_parser(folder: str) -> type[HTTPRequestParser]:
    """A parser class spooling bodies to `folder`."""
    return type("SpoolingRequestParser", (SpoolingRequestParser,), {"spool_folder": folder})
