"""Reading and writing cgroupfs interface files, with errors that name the file.

Both backends write single values into small files; the kernel answers a bad value
with EINVAL, a missing controller with ENOENT, a busy cgroup with EBUSY. Every such
failure becomes a `CgroupError` naming the directory, the file and the value.
"""

from __future__ import annotations

import errno
import os

from porter_runtime.cgroups.base import CgroupError

UINT64_MAX = 2**64 - 1


def write(directory: str, name: str, value: str | int) -> None:
    """Write one value to `directory/name` in a single write(2), as the kernel expects."""
    data = str(value).encode()
    try:
        fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CLOEXEC)
    except OSError as e:
        raise _error(directory, name, value, e) from e
    try:
        os.write(fd, data)
    except OSError as e:
        raise _error(directory, name, value, e) from e
    finally:
        os.close(fd)


def _error(directory: str, name: str, value: str | int, e: OSError) -> CgroupError:
    reason = e.strerror or str(e)
    if e.errno == errno.ENOENT:
        reason = "not supported here (no such file: controller missing or kernel too old)"
    elif e.errno == errno.EINVAL:
        reason = "value rejected by the kernel (invalid argument)"
    return CgroupError(directory, name, f"cannot write {str(value)!r}: {reason}")


def exists(directory: str, name: str) -> bool:
    return os.path.exists(os.path.join(directory, name))


def read(directory: str, name: str) -> str:
    try:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            return f.read().strip()
    except OSError as e:
        raise CgroupError(directory, name, f"cannot read: {e.strerror or e}") from e


def read_or(directory: str, name: str, default: str = "") -> str:
    """The file's content, or `default` when the file is absent or unreadable (stats)."""
    try:
        return read(directory, name)
    except CgroupError:
        return default


def parse_uint(text: str) -> int:
    """An integer from cgroupfs; "max" (v2) is the largest value, as runc reports it."""
    text = text.strip()
    if not text:
        return 0
    if text == "max":
        return UINT64_MAX
    try:
        return int(text)
    except ValueError:
        return 0


def read_uint(directory: str, name: str) -> int:
    return parse_uint(read_or(directory, name))


def read_keyed(directory: str, name: str) -> dict[str, int]:
    """A flat-keyed file ("key value" per line) such as memory.stat or cpu.stat."""
    result: dict[str, int] = {}
    for line in read_or(directory, name).splitlines():
        parts = line.split()
        if len(parts) == 2:
            result[parts[0]] = parse_uint(parts[1])
    return result


def read_pids(directory: str, name: str = "cgroup.procs") -> list[int]:
    """The pids listed in cgroup.procs; empty when the cgroup does not exist."""
    try:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []
    except OSError as e:
        raise CgroupError(directory, name, f"cannot read: {e.strerror or e}") from e
