"""The storage-driver interface: what the registry needs from a place that keeps bytes.

Modelled on CNCF distribution's `storagedriver.StorageDriver`: paths are relative POSIX paths
("blobs/sha256/ab/ab12.../data"), writers are resumable and become durable only on `commit`,
`put_content` and `move` are atomic. Every driver passes `tests/driver_suite.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable

from porter_specs.errors import PorterError


class StorageError(PorterError):
    """A storage operation failed on a path."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"storage: {path}: {reason}")
        self.path = path
        self.reason = reason


class PathNotFoundError(StorageError):
    """The path does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(path, "not found")


@dataclass(frozen=True)
class FileInfo:
    """What `stat` tells about a path."""

    path: str
    size: int
    mtime: float
    is_dir: bool


@runtime_checkable
class FileWriter(Protocol):
    """A resumable writer: bytes become durable on `commit`, and vanish on `cancel`."""

    @property
    def size(self) -> int:
        """Bytes in the file so far (committed or not)."""
        ...

    def write(self, data: bytes) -> int: ...

    def commit(self) -> None:
        """Make everything written so far durable (flush and fsync); the writer stays usable."""
        ...

    def cancel(self) -> None:
        """Close and remove the file."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class StorageDriver(Protocol):
    """The operations the registry's layout is built from."""

    def get_content(self, path: str) -> bytes:
        """The whole content of a small file (links, manifests)."""
        ...

    def put_content(self, path: str, data: bytes) -> None:
        """Write a small file atomically: readers see the old content or the new, never half."""
        ...

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        """A binary file object positioned at `offset` (seekable; closes with the caller)."""
        ...

    def writer(self, path: str, append: bool = False, offset: int | None = None) -> FileWriter:
        """A writer; with `append`, continue at `offset` (default: the end), dropping any tail."""
        ...

    def stat(self, path: str) -> FileInfo: ...

    def list(self, path: str) -> list[str]:
        """The direct children of a directory, as full paths, sorted."""
        ...

    def move(self, source: str, dest: str) -> None:
        """Rename atomically, replacing `dest` (its parent folders are created)."""
        ...

    def delete(self, path: str) -> None:
        """Remove a file or a whole folder."""
        ...

    def touch(self, path: str) -> None:
        """Set a path's modification time to now (gc's grace period counts from it)."""
        ...


@runtime_checkable
class LocalFileLinker(Protocol):
    """What a driver on the local filesystem can also do: name an open file without copying it.

    waitress spools a large request body into a file in the data folder; a driver that can link
    that file into place saves writing the body a second time. Drivers that cannot simply lack
    this method, and uploads copy the body through `writer` instead.
    """

    def link_file(self, fd: int, path: str) -> bool:
        """Make the file open as `fd` durable at `path`, replacing it; False when it cannot be
        linked there (another filesystem, no /proc), leaving `path` unchanged."""
        ...
