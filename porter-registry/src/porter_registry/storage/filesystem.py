"""The filesystem storage driver: every durable write is temp file, fsync, rename, fsync dir.

Paths are plain strings joined by hand: a manifest GET resolves a few of them, and building a
`pathlib.Path` for each was most of the app's time for one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import uuid
from typing import BinaryIO

from porter_registry.storage.driver import FileInfo, PathNotFoundError, StorageError


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_whole(path: str) -> bytes:
    """The bytes of a file in four system calls (open, fstat, read, close); `open().read()`
    makes nine for a link file, and a manifest GET reads one."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        wanted = os.fstat(fd).st_size + 1
        parts = []
        while chunk := os.read(fd, wanted):
            parts.append(chunk)
            if len(chunk) < wanted:
                break  # a short read of a regular file is its end
        return b"".join(parts)
    finally:
        os.close(fd)


class FilesystemWriter:
    """A writer on a local file; `commit` flushes and fsyncs so a crash keeps what it covers."""

    def __init__(self, path: str, file: BinaryIO, start: int) -> None:
        self._path = path
        self._file = file
        self._size = start

    @property
    def size(self) -> int:
        return self._size

    def write(self, data: bytes) -> int:
        written = self._file.write(data)
        self._size += written
        return written

    def commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def cancel(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class FilesystemDriver:
    """Keeps the registry's paths under one root folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.normpath(os.fspath(root))
        os.makedirs(self.root, exist_ok=True)
        self._prefix = f"{self.root}/"

    def _full(self, path: str) -> str:
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if not parts or path.startswith("/") or ".." in parts:
            raise StorageError(path, "not a relative path inside the store")
        return self._prefix + "/".join(parts)

    def _makedirs(self, folder: str) -> None:
        """Create `folder` and fsync the parent of each created level, so renames into it last."""
        missing = []
        while not os.path.exists(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for level in reversed(missing):
            with contextlib.suppress(FileExistsError):
                os.mkdir(level)
            _fsync_dir(os.path.dirname(level))

    def get_content(self, path: str) -> bytes:
        try:
            return _read_whole(self._full(path))
        except (FileNotFoundError, NotADirectoryError):
            raise PathNotFoundError(path) from None
        except IsADirectoryError as exc:
            raise StorageError(path, "is a folder") from exc

    def put_content(self, path: str, data: bytes) -> None:
        target = self._full(path)
        folder = os.path.dirname(target)
        self._makedirs(folder)
        temp = f"{folder}/.tmp-{uuid.uuid4().hex}"
        try:
            with open(temp, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_dir(folder)

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        try:
            file = open(self._full(path), "rb")  # noqa: SIM115 - the caller closes it
        except (FileNotFoundError, NotADirectoryError):
            raise PathNotFoundError(path) from None
        if offset:
            file.seek(offset)
        return file

    def writer(
        self, path: str, append: bool = False, offset: int | None = None
    ) -> FilesystemWriter:
        target = self._full(path)
        self._makedirs(os.path.dirname(target))
        if append and os.path.exists(target):
            file = open(target, "r+b")  # noqa: SIM115 - owned by the writer
            end = file.seek(0, os.SEEK_END)
            start = end if offset is None else offset
            if start > end:
                file.close()
                raise StorageError(path, f"cannot resume at {start}: only {end} bytes")
            file.truncate(start)
            file.seek(start)
            return FilesystemWriter(target, file, start)
        return FilesystemWriter(target, open(target, "wb"), 0)

    def link_file(self, fd: int, path: str) -> bool:
        target = self._full(path)
        parent, name = os.path.split(target)
        self._makedirs(parent)
        temp = f".tmp-{uuid.uuid4().hex}"
        folder = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            try:
                # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N names even an O_TMPFILE file with
                # no privilege (AT_EMPTY_PATH needs one). A dir fd makes Python call linkat:
                # plain link(2) would try to link the /proc symlink itself.
                os.link(f"/proc/self/fd/{fd}", temp, dst_dir_fd=folder, follow_symlinks=True)
            except OSError:
                return False
            try:
                os.fsync(fd)
                os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp, dir_fd=folder)
                raise
            os.fsync(folder)
        finally:
            os.close(folder)
        return True

    def stat(self, path: str) -> FileInfo:
        try:
            st = os.stat(self._full(path))
        except (FileNotFoundError, NotADirectoryError):
            raise PathNotFoundError(path) from None
        return FileInfo(path, st.st_size, st.st_mtime, stat.S_ISDIR(st.st_mode))

    def list(self, path: str) -> list[str]:
        folder = self._full(path) if path else self.root
        try:
            names = sorted(n for n in os.listdir(folder) if not n.startswith(".tmp-"))
        except (FileNotFoundError, NotADirectoryError):
            raise PathNotFoundError(path) from None
        prefix = f"{path.rstrip('/')}/" if path else ""
        return [prefix + name for name in names]

    def move(self, source: str, dest: str) -> None:
        src, dst = self._full(source), self._full(dest)
        src_folder, dst_folder = os.path.dirname(src), os.path.dirname(dst)
        self._makedirs(dst_folder)
        try:
            os.replace(src, dst)
        except FileNotFoundError:
            raise PathNotFoundError(source) from None
        _fsync_dir(dst_folder)
        if src_folder != dst_folder:
            _fsync_dir(src_folder)

    def delete(self, path: str) -> None:
        target = self._full(path)
        try:
            if os.path.isdir(target) and not os.path.islink(target):
                # Rename first so a crash never leaves a half-deleted folder under its name.
                doomed = f"{os.path.dirname(target)}/.tmp-{uuid.uuid4().hex}"
                os.rename(target, doomed)
                shutil.rmtree(doomed, ignore_errors=True)
            else:
                os.unlink(target)
        except (FileNotFoundError, NotADirectoryError):
            raise PathNotFoundError(path) from None

    def touch(self, path: str) -> None:
        try:
            os.utime(self._full(path))
        except FileNotFoundError:
            raise PathNotFoundError(path) from None
