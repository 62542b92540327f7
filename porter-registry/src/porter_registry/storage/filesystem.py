"""The filesystem storage driver: every durable write is temp file, fsync, rename, fsync dir."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from porter_registry.storage.driver import FileInfo, PathNotFoundError, StorageError


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemWriter:
    """A writer on a local file; `commit` flushes and fsyncs so a crash keeps what it covers."""

    def __init__(self, path: Path, file: BinaryIO, start: int) -> None:
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
            self._path.unlink()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class FilesystemDriver:
    """Keeps the registry's paths under one root folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._prefix = f"{self.root}/"

    def _full(self, path: str) -> Path:
        # split by hand: every request resolves a few paths, and parsing each through
        # pathlib three times was half of a manifest GET's time in the app
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if not parts or path.startswith("/") or ".." in parts:
            raise StorageError(path, "not a relative path inside the store")
        return Path(self._prefix + "/".join(parts))

    def _makedirs(self, folder: Path) -> None:
        """Create `folder` and fsync the parent of each created level, so renames into it last."""
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for level in reversed(missing):
            with contextlib.suppress(FileExistsError):
                level.mkdir()
            _fsync_dir(level.parent)

    def get_content(self, path: str) -> bytes:
        try:
            return self._full(path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise PathNotFoundError(path) from None
        except IsADirectoryError as exc:
            raise StorageError(path, "is a folder") from exc

    def put_content(self, path: str, data: bytes) -> None:
        target = self._full(path)
        self._makedirs(target.parent)
        temp = target.parent / f".tmp-{uuid.uuid4().hex}"
        try:
            with open(temp, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise
        _fsync_dir(target.parent)

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
        self._makedirs(target.parent)
        if append and target.exists():
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
        self._makedirs(target.parent)
        temp = f".tmp-{uuid.uuid4().hex}"
        folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
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
                os.replace(temp, target.name, src_dir_fd=folder, dst_dir_fd=folder)
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
            st = self._full(path).stat()
        except (FileNotFoundError, NotADirectoryError):
            raise PathNotFoundError(path) from None
        return FileInfo(path, st.st_size, st.st_mtime, os.path.isdir(self._full(path)))

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
        self._makedirs(dst.parent)
        try:
            os.replace(src, dst)
        except FileNotFoundError:
            raise PathNotFoundError(source) from None
        _fsync_dir(dst.parent)
        if src.parent != dst.parent:
            _fsync_dir(src.parent)

    def delete(self, path: str) -> None:
        target = self._full(path)
        try:
            if target.is_dir() and not target.is_symlink():
                # Rename first so a crash never leaves a half-deleted folder under its name.
                doomed = target.parent / f".tmp-{uuid.uuid4().hex}"
                os.rename(target, doomed)
                shutil.rmtree(doomed, ignore_errors=True)
            else:
                target.unlink()
        except (FileNotFoundError, NotADirectoryError):
            raise PathNotFoundError(path) from None

    def touch(self, path: str) -> None:
        try:
            os.utime(self._full(path))
        except FileNotFoundError:
            raise PathNotFoundError(path) from None
