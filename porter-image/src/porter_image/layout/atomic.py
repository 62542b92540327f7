"""Atomic placement: content is written to a temp file in the layout, fsynced, then renamed.

A reader therefore sees either no file or the complete, verified one; a crash leaves at most
a stale temp file (named `.porter-tmp-*` in the layout root), which `gc` removes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from porter_specs.digest import CANONICAL_ALGORITHM, Digest, Digester

TEMP_PREFIX = ".porter-tmp-"


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_writer(
    path: Path, temp_dir: Path | None = None, mode: int = 0o644
) -> Iterator[BinaryIO]:
    """A file to stream into that replaces `path` when the block ends cleanly (readers see
    the old or the new content, never a mix); on an error the temp file is removed. The
    file has `mode` before it appears, so a private file is never readable by others."""
    import tempfile  # here, not at the top: a command that only reads a layout never needs it

    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=temp_dir or path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_dir(path.parent)


def write_file_atomic(
    path: Path, data: bytes, temp_dir: Path | None = None, mode: int = 0o644
) -> None:
    """Replace `path` with `data` so that readers see the old or the new content, never a mix."""
    with atomic_writer(path, temp_dir, mode) as out:
        out.write(data)


class TempBlob:
    """A temp file that hashes everything written to it; `place()` renames it into a blob path.

    It is the writable file `Layout.blob_writer()` hands out: layer writers stream into it and
    never hold the whole blob in memory.
    """

    def __init__(self, temp_dir: Path, algorithm: str = CANONICAL_ALGORITHM) -> None:
        import tempfile

        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=temp_dir)
        self.path = Path(name)
        self._file: BinaryIO = os.fdopen(fd, "wb")
        self._digester = Digester(algorithm)

    def write(self, chunk: bytes) -> int:
        self._digester.update(chunk)
        return self._file.write(chunk)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self._file.flush()

    def tell(self) -> int:
        return self._digester.size

    @property
    def size(self) -> int:
        return self._digester.size

    def digest(self) -> Digest:
        return self._digester.digest()

    def close(self) -> None:
        """Flush and fsync; the content stays in the temp file until `place` or `discard`."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def place(self, target: Path, sync_dir: bool = True) -> None:
        """Rename the finished temp file to `target` (a blob path) and make it durable; with
        `sync_dir` False the rename itself is not yet (the caller fsyncs the folder later)."""
        self.close()
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o644)
        os.replace(self.path, target)
        if sync_dir:
            fsync_dir(target.parent)

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
