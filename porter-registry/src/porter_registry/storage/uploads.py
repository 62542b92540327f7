"""Upload sessions: resumable, crash-safe, verified before the blob becomes visible.

A session is `repositories/<name>/_uploads/<uuid>/` with `data` (the bytes), `startedat` and
`offset`, the number of bytes known durable. Each chunk is appended, fsynced, and only then is
`offset` advanced (atomically). After a crash, `data` may hold a tail past `offset`; the next
append truncates it away, so the session resumes exactly at its committed offset.

The running hash of a session lives in memory only; after a restart (or eviction) it is rebuilt
by re-reading `data` up to the offset, never unpickled from disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from porter_specs.digest import CANONICAL_ALGORITHM, Digest

from porter_registry.errors import RegistryError
from porter_registry.keyed_locks import KeyedLocks
from porter_registry.storage import paths
from porter_registry.storage.driver import LocalFileLinker, PathNotFoundError, StorageDriver

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_HASHER_CACHE_SIZE = 4096
_REHASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class UploadStatus:
    """Where a session stands: `offset` bytes are durable."""

    name: str
    upload_id: str
    offset: int
    started_at: float


@runtime_checkable
class LocalFileBody(Protocol):
    """A chunk already whole in a local file (waitress's spool), maybe with its sha256 known.

    Iterating yields its bytes; a session at offset 0 on a `LocalFileLinker` driver instead
    links the file as its data, keeping the hash computed while the body arrived.
    """

    size: int

    @property
    def linkable(self) -> bool: ...

    def fileno(self) -> int: ...

    def sha256(self) -> object | None:
        """The running sha256 of the whole file (a copy), or None when not known."""
        ...

    def __iter__(self) -> Iterator[bytes]: ...


class _HasherCache:
    """Running hashes by session, valid only for the offset they were taken at."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[int, object]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: tuple[str, str], offset: int) -> object | None:
        with self._lock:
            entry = self._entries.pop(key, None)
        return entry[1] if entry is not None and entry[0] == offset else None

    def put(self, key: tuple[str, str], offset: int, hasher: object) -> None:
        with self._lock:
            self._entries[key] = (offset, hasher)
            while len(self._entries) > _HASHER_CACHE_SIZE:
                self._entries.popitem(last=False)

    def peek(self, key: tuple[str, str], offset: int) -> object | None:
        with self._lock:
            entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] == offset else None


class UploadStore:
    """Creates, appends to, verifies and removes upload sessions."""

    def __init__(self, driver: StorageDriver) -> None:
        self.driver = driver
        self._hashers = _HasherCache()
        self._session_locks = KeyedLocks()

    def start(self, name: str) -> UploadStatus:
        upload_id = uuid.uuid4().hex
        started = time.time()
        self.driver.put_content(paths.upload_started(name, upload_id), repr(started).encode())
        writer = self.driver.writer(paths.upload_data(name, upload_id))
        writer.commit()
        writer.close()
        self.driver.put_content(paths.upload_offset(name, upload_id), b"0")
        return UploadStatus(name, upload_id, 0, started)

    def status(self, name: str, upload_id: str) -> UploadStatus:
        if not _UPLOAD_ID.match(upload_id):
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", {"upload": upload_id})
        try:
            offset = int(self.driver.get_content(paths.upload_offset(name, upload_id)))
            started = float(self.driver.get_content(paths.upload_started(name, upload_id)))
        except (PathNotFoundError, ValueError):
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", {"upload": upload_id}) from None
        return UploadStatus(name, upload_id, offset, started)

    def append(
        self,
        name: str,
        upload_id: str,
        chunks: Iterable[bytes],
        start: int | None = None,
        length: int | None = None,
    ) -> UploadStatus:
        """Append a chunk; `start` (from Content-Range) must be the current offset, else 416."""
        with self.lock(name, upload_id):
            return self.append_locked(self.status(name, upload_id), chunks, start, length)

    def append_locked(
        self,
        status: UploadStatus,
        chunks: Iterable[bytes],
        start: int | None = None,
        length: int | None = None,
    ) -> UploadStatus:
        """Append while the caller holds the session lock (see `lock`)."""
        if start is not None and start != status.offset:
            raise RegistryError(
                "BLOB_UPLOAD_INVALID",
                f"chunk starts at {start} but the upload has {status.offset} bytes",
                status=416,
                headers={"Range": range_header(status.offset)},
            )
        if isinstance(chunks, LocalFileBody):
            linked = self._link_body(status, chunks, length)
            if linked is not None:
                return linked
        key = (status.name, status.upload_id)
        hasher = self._hasher(status)
        data = paths.upload_data(status.name, status.upload_id)
        try:
            writer = self.driver.writer(data, append=True, offset=status.offset)
        except PathNotFoundError:
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", {"upload": status.upload_id}) from None
        try:
            for chunk in chunks:
                writer.write(chunk)
                hasher.update(chunk)  # type: ignore[attr-defined]
            written = writer.size - status.offset
            if length is not None and written != length:
                raise RegistryError(
                    "SIZE_INVALID", f"chunk declared {length} bytes but carried {written}"
                )
            writer.commit()
        finally:
            writer.close()
        offset = status.offset + written
        self.driver.put_content(paths.upload_offset(status.name, status.upload_id), b"%d" % offset)
        self._hashers.put(key, offset, hasher)
        return UploadStatus(status.name, status.upload_id, offset, status.started_at)

    def _link_body(
        self, status: UploadStatus, body: LocalFileBody, length: int | None
    ) -> UploadStatus | None:
        """Make a spooled body that starts the session its data, without copying; None when
        it cannot be (not at offset 0, hash unknown, driver or file cannot link)."""
        if status.offset != 0 or not body.linkable or not isinstance(self.driver, LocalFileLinker):
            return None
        hasher = body.sha256()
        if hasher is None:
            return None
        if length is not None and body.size != length:
            raise RegistryError(
                "SIZE_INVALID", f"chunk declared {length} bytes but carried {body.size}"
            )
        data = paths.upload_data(status.name, status.upload_id)
        # Durable under its name before `offset` claims it, as an appended chunk would be.
        if not self.driver.link_file(body.fileno(), data):
            return None
        self.driver.put_content(
            paths.upload_offset(status.name, status.upload_id), b"%d" % body.size
        )
        self._hashers.put((status.name, status.upload_id), body.size, hasher)
        return UploadStatus(status.name, status.upload_id, body.size, status.started_at)

    def _hasher(self, status: UploadStatus) -> object:
        """The running sha256 at the committed offset: cached, or rebuilt from `data`."""
        cached = self._hashers.take((status.name, status.upload_id), status.offset)
        if cached is not None:
            return cached
        return self._rehash(status, CANONICAL_ALGORITHM)

    def _rehash(self, status: UploadStatus, algorithm: str) -> object:
        hasher = hashlib.new(algorithm)
        remaining = status.offset
        try:
            reader = self.driver.reader(paths.upload_data(status.name, status.upload_id))
        except PathNotFoundError:
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", {"upload": status.upload_id}) from None
        with reader:
            while remaining > 0:
                chunk = reader.read(min(_REHASH_CHUNK, remaining))
                if not chunk:
                    raise RegistryError("BLOB_UPLOAD_INVALID", "upload data is shorter than offset")
                hasher.update(chunk)
                remaining -= len(chunk)
        return hasher

    def verify(self, status: UploadStatus, expected: Digest) -> str:
        """Check the session's content against `expected`; return the data path to adopt."""
        key = (status.name, status.upload_id)
        hasher = None
        if expected.algorithm == CANONICAL_ALGORITHM:
            hasher = self._hashers.peek(key, status.offset)
        if hasher is None:
            hasher = self._rehash(status, expected.algorithm)
        actual = hasher.hexdigest()  # type: ignore[attr-defined]
        if actual != expected.encoded:
            raise RegistryError(
                "DIGEST_INVALID",
                f"upload {status.upload_id} hashes to {expected.algorithm}:{actual}, "
                f"not {expected}",
            )
        data = paths.upload_data(status.name, status.upload_id)
        # Drop any tail a crash left past the committed offset before the data becomes a blob.
        writer = self.driver.writer(data, append=True, offset=status.offset)
        writer.close()
        return data

    def lock(self, name: str, upload_id: str) -> contextlib.AbstractContextManager[None]:
        """The per-session lock, for callers that finish a session (append + verify + adopt)."""
        return self._session_locks.held((name, upload_id))

    def remove(self, name: str, upload_id: str) -> None:
        """Forget a session (after it became a blob, or when cancelled)."""
        self._hashers.take((name, upload_id), -1)
        with contextlib.suppress(PathNotFoundError):
            self.driver.delete(paths.upload_dir(name, upload_id))


def range_header(offset: int) -> str:
    """The `Range` value telling a client how much of its upload the registry holds."""
    return f"0-{max(offset - 1, 0)}"
