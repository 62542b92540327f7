"""Container logs in docker's json-file shape, converted from conmon's k8s-file log.

conmon (Debian's 2.1) writes only k8s-file (`TIME STREAM P|F TEXT` per line), journald or
passthrough, so porterd converts: a `LogPump` per container reads conmon's file from a cursor
(`conmon.log.cursor`: inode and offset, updated after each write, so a restarted porterd goes
on where the last one stopped) and appends one JSON object per line,
`{"log": "...\\n", "stream": "stdout", "time": "...Z"}`, to `ID-json.log`, rotated at
max-size into `ID-json.log.1` ... `.N-1` as docker's json-file does. conmon replaces its file
by a new one when it grows past `--log-size-max` (set to max-size); the pump finishes the old
file through the descriptor it holds. Only while porterd is down can output beyond max-size
be lost, because nobody converts it then.
"""

from __future__ import annotations

import collections
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from porterd.clock import time_ns
from porterd.containers.file_wake import ChangeWatch, WakeEvent
from porterd.errors import InvalidParameter

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_FILES = 3
TAIL_RECHECK = 0.5  # seconds an attached stream's tail sleeps at most between looks
_SIZE = re.compile(r"(?i)([0-9]+)\s*([kmg]?)b?")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


@dataclass(frozen=True)
class LogOptions:
    max_size: int = DEFAULT_MAX_SIZE
    max_files: int = DEFAULT_MAX_FILES

    @classmethod
    def from_log_config(cls, log_config: dict | None) -> LogOptions:
        """HostConfig.LogConfig (`json-file` only) with docker's option names."""
        log_config = log_config or {}
        kind = log_config.get("Type") or "json-file"
        if kind not in ("json-file", "k8s-file"):
            raise InvalidParameter(f"logging driver {kind!r} is not supported (json-file is)")
        options = log_config.get("Config") or {}
        unknown = set(options) - {"max-size", "max-file"}
        if unknown:
            raise InvalidParameter(f"unknown log opt {sorted(unknown)[0]!r} for json-file")
        max_size = parse_size(options["max-size"]) if "max-size" in options else DEFAULT_MAX_SIZE
        try:
            max_files = int(options.get("max-file", DEFAULT_MAX_FILES))
        except ValueError:
            raise InvalidParameter(f"invalid max-file: {options['max-file']!r}") from None
        if max_files < 1:
            raise InvalidParameter("max-file cannot be less than 1")
        return cls(max_size, max_files)


def parse_size(text: str) -> int:
    """`10m`, `512k`, `1g`, `4096`: docker's sizes (powers of 1024)."""
    match = _SIZE.fullmatch(str(text).strip())
    if not match:
        raise InvalidParameter(f"invalid size: {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


@dataclass(frozen=True)
class LogEntry:
    log: bytes
    stream: str
    time: str  # RFC 3339 with nanoseconds, in UTC

    def to_line(self) -> bytes:
        text = self.log.decode("utf-8", errors="replace")
        entry = {"log": text, "stream": self.stream, "time": self.time}
        return json.dumps(entry, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> LogEntry | None:
        try:
            entry = json.loads(line)
            return cls(entry["log"].encode(), entry["stream"], entry["time"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    @property
    def nanoseconds(self) -> int:
        return time_ns(self.time)


def k8s_lines(complete: bytes) -> list[bytes]:
    """The lines of conmon's log, split on newlines only: a terminal's \r is the text's."""
    return complete[:-1].split(b"\n") if complete else []


def parse_k8s_line(line: bytes) -> LogEntry | None:
    """One line of conmon's k8s-file log (without its newline); None when malformed.

    A full line (F) gets back the newline conmon split it on; a partial one (P) does not,
    so concatenating the entries gives the bytes the container wrote, as with docker.
    """
    parts = line.split(b" ", 3)
    if len(parts) < 3 or parts[1] not in (b"stdout", b"stderr") or parts[2] not in (b"P", b"F"):
        return None
    try:
        stamp = parts[0].decode()
        time_ns(stamp)
    except (UnicodeDecodeError, ValueError):
        return None
    text = parts[3] if len(parts) == 4 else b""
    if stamp.endswith("+00:00"):
        stamp = stamp[: -len("+00:00")] + "Z"
    log = text + b"\n" if parts[2] == b"F" else text
    return LogEntry(log, parts[1].decode(), stamp)


class JsonFileWriter:
    """Appends entries to `path`, rotating it into path.1 ... path.(max_files-1)."""

    def __init__(self, path: Path, options: LogOptions) -> None:
        self.path = path
        self.options = options

    def append(self, entries: list[LogEntry]) -> None:
        if not entries:
            return
        with open(self.path, "ab") as out:
            size = out.tell()
            for entry in entries:
                line = entry.to_line()
                if size and size + len(line) > self.options.max_size:
                    out.close()
                    self._rotate()
                    out = open(self.path, "ab")  # noqa: SIM115 - reopened after rotation
                    size = 0
                out.write(line)
                size += len(line)
            out.flush()

    def _rotate(self) -> None:
        if self.options.max_files <= 1:
            self.path.unlink(missing_ok=True)
            return
        for index in range(self.options.max_files - 1, 0, -1):
            older = rotated(self.path, index - 1)
            if older.exists():
                os.replace(older, rotated(self.path, index))


def rotated(path: Path, index: int) -> Path:
    return path if index == 0 else path.with_name(f"{path.name}.{index}")


class LogPump:
    """Moves what conmon wrote into the json-file log, resumably, one caller at a time.

    The cursor says how far conmon's log is converted and how long the json-file log was
    then. Entries appended after the last cursor (porterd killed between the append and the
    cursor's write) are cut off when a new pump resumes, and converted again from conmon's
    log: each line is in the json-file log once, however porterd ended.
    """

    def __init__(self, source: Path, cursor: Path, writer: JsonFileWriter) -> None:
        self.source = source
        self.cursor = cursor
        self.writer = writer
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None

    def pump(self) -> None:
        with self._lock:
            if self._file is None and not self._open(resume=True):
                return
            assert self._file is not None
            self._drain(self._file)
            try:
                current = os.stat(self.source).st_ino
            except FileNotFoundError:
                return
            if current != os.fstat(self._file.fileno()).st_ino and self._open(resume=False):
                self._drain(self._file)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _open(self, resume: bool) -> bool:
        """Open conmon's current file: at the cursor when it is the file the cursor names."""
        try:
            log = open(self.source, "rb")  # noqa: SIM115 - kept open across calls
        except FileNotFoundError:
            return False
        inode, offset, converted = self._load_cursor()
        info = os.fstat(log.fileno())
        if resume and info.st_ino == inode and info.st_size >= offset:
            log.seek(offset)
            self._cut_unrecorded(converted)
        if self._file is not None:
            self._file.close()
        self._file = log
        return True

    def _drain(self, log: BinaryIO) -> None:
        start = log.tell()
        data = log.read()
        complete = data[: data.rfind(b"\n") + 1]
        log.seek(start + len(complete))
        if not complete:
            return
        entries = [parse_k8s_line(line) for line in k8s_lines(complete)]
        self.writer.append([entry for entry in entries if entry is not None])
        self._save_cursor(os.fstat(log.fileno()).st_ino, start + len(complete))

    def _load_cursor(self) -> tuple[int, int, int]:
        """(conmon log's inode, offset converted up to, json-file log's size then; -1 when
        a cursor written before that was kept says nothing of it)."""
        try:
            inode, offset, *converted = self.cursor.read_text().split()
            return int(inode), int(offset), int(converted[0]) if converted else -1
        except (OSError, ValueError):
            return 0, 0, -1

    def _save_cursor(self, inode: int, offset: int) -> None:
        temporary = self.cursor.with_name(self.cursor.name + ".tmp")
        temporary.write_text(f"{inode} {offset} {_size(self.writer.path)}\n")
        os.replace(temporary, self.cursor)

    def _cut_unrecorded(self, converted: int) -> None:
        """Drop what was appended to the json-file log after the cursor was written. (When
        the log was rotated meanwhile, it is shorter, and what the rotation moved stays.)"""
        if 0 <= converted < _size(self.writer.path):
            os.truncate(self.writer.path, converted)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


@dataclass(frozen=True)
class LogQuery:
    stdout: bool = True
    stderr: bool = True
    since_ns: int = 0
    until_ns: int = 0  # 0: no limit
    tail: int = -1  # -1: all

    def wants(self, entry: LogEntry) -> bool:
        if entry.stream == "stdout" and not self.stdout:
            return False
        if entry.stream == "stderr" and not self.stderr:
            return False
        if self.since_ns or self.until_ns:
            moment = entry.nanoseconds
            if self.since_ns and moment < self.since_ns:
                return False
            if self.until_ns and moment > self.until_ns:
                return False
        return True


def read_entries(path: Path, options: LogOptions, query: LogQuery) -> list[LogEntry]:
    """The entries of the log and its rotated files, oldest first, as the query asks."""
    if query.tail == 0:
        return []
    kept: collections.deque[LogEntry] = collections.deque(
        maxlen=query.tail if query.tail > 0 else None
    )
    for index in range(options.max_files - 1, -1, -1):
        for entry in _file_entries(rotated(path, index)):
            if query.wants(entry):
                kept.append(entry)
    return list(kept)


def _file_entries(path: Path) -> Iterator[LogEntry]:
    try:
        log = open(path, "rb")  # noqa: SIM115 - closed below, a generator holds it
    except FileNotFoundError:
        return
    with log:
        for line in log:
            entry = LogEntry.from_line(line)
            if entry is not None:
                yield entry


class LogFollower:
    """New entries of the (rotating) json-file log after the point where it was opened.

    The file is kept open: what reached it before a rotation renamed it, or before the
    container's removal deleted it, is still read (`logs -f` of a container that `run --rm`
    removed right after its exit used to lose its last lines).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._open(at_end=True)

    def poll(self) -> list[LogEntry]:
        if self._file is None and not self._open(at_end=False):
            return []
        assert self._file is not None
        entries = self._read(self._file)
        try:
            current = os.stat(self.path).st_ino
        except FileNotFoundError:
            return entries  # removed: the open file has given all it held
        if current != os.fstat(self._file.fileno()).st_ino:  # rotated: finish the old file
            entries += self._read(self._file)
            if self._open(at_end=False):
                entries += self._read(self._file)
        return entries

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self, at_end: bool) -> bool:
        try:
            log = open(self.path, "rb")  # noqa: SIM115 - kept open across polls
        except FileNotFoundError:
            return False
        if at_end:
            log.seek(0, os.SEEK_END)
        self.close()
        self._file = log
        return True

    @staticmethod
    def _read(log: BinaryIO) -> list[LogEntry]:
        data = log.read()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) < len(data):  # a line still being written: read again next time
            log.seek(len(complete) - len(data), os.SEEK_CUR)
        parsed = (LogEntry.from_line(line) for line in complete.splitlines())
        return [entry for entry in parsed if entry is not None]


class ConmonLogTail:
    """What conmon writes to its k8s-file log from the moment this is made on, entry by entry.

    An attached stream's output comes from here rather than from conmon's attach socket:
    conmon accepts a connection to that socket only in its main loop, which it may reach after
    a short-lived process has printed and ended, so the socket can miss output the log has.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._pending = b""
        self._open(at_end=True)

    def follow(
        self, ended: Callable[[], bool], done: threading.Event, conmon_pid: int = 0
    ) -> Iterator[LogEntry]:
        """The entries until `ended()` (conmon is gone: it has written all it will) or `done`.

        Between reads it sleeps until the log's folder changes, conmon (`conmon_pid`) ends or
        `done` is set (when it is a `WakeEvent`); TAIL_RECHECK bounds the sleep for the
        cases nothing wakes it (no pid known, `done` a plain Event)."""
        watch = ChangeWatch(self.path.parent, conmon_pid)  # before the first read: no change lost
        if isinstance(done, WakeEvent):
            done.wakes(watch)
        try:
            while True:
                finished = ended()  # looked at first, so that the read below gets everything
                data = self._read()
                yield from self._entries(data)
                if finished or done.is_set():
                    return
                if not data:
                    watch.wait(TAIL_RECHECK)
        finally:
            if isinstance(done, WakeEvent):
                done.forget(watch)
            watch.close()
            self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self, at_end: bool) -> None:
        try:
            log = open(self.path, "rb")  # noqa: SIM115 - kept across reads
        except FileNotFoundError:
            return
        if at_end:
            log.seek(0, os.SEEK_END)
        self.close()
        self._file = log

    def _read(self) -> bytes:
        if self._file is None:
            self._open(at_end=False)
            if self._file is None:
                return b""
        data = self._file.read()
        if self._replaced():  # conmon went past --log-size-max and began a new file
            data += self._file.read()
            self._open(at_end=False)
            if self._file is not None:
                data += self._file.read()
        return data

    def _replaced(self) -> bool:
        assert self._file is not None
        try:
            return os.stat(self.path).st_ino != os.fstat(self._file.fileno()).st_ino
        except FileNotFoundError:
            return False

    def _entries(self, data: bytes) -> Iterator[LogEntry]:
        self._pending += data
        cut = self._pending.rfind(b"\n") + 1
        complete, self._pending = self._pending[:cut], self._pending[cut:]
        for line in k8s_lines(complete):
            entry = parse_k8s_line(line)
            if entry is not None:
                yield entry
