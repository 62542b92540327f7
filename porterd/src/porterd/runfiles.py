"""The data root's lock (one porterd per data root) and the pid file."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from porter_specs.errors import PorterError


class AlreadyRunning(PorterError):
    """Another porterd holds the data root, or its pid file names a live process."""


class DataRootLock:
    """An exclusive `flock` on `<data-root>/porterd.lock`, held while porterd runs.

    The kernel drops it when the process dies, kill -9 included, so a crashed porterd never
    leaves a stale lock behind.
    """

    def __init__(self, data_root: Path) -> None:
        self.path = data_root / "porterd.lock"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(self._fd)
            raise AlreadyRunning(
                f"another porterd (pid {holder}) is running with data root {data_root};"
                " stop it or give this one another --data-root"
            ) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


def write_pidfile(path: Path) -> None:
    """Write our pid to `path`, refusing when it names a process still alive (dockerd's rule)."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        pid = int(path.read_text().strip())
        if pid != os.getpid() and Path(f"/proc/{pid}").exists():
            raise AlreadyRunning(
                f"pid file found, ensure porterd is not running or delete {path} (pid {pid})"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(f"{os.getpid()}\n")
    temporary.replace(path)


def remove_pidfile(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ValueError):
        if int(path.read_text().strip()) == os.getpid():
            path.unlink()
