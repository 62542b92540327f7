"""What every module of the cgroup package shares, at its bottom: the error, how an
unprivileged runtime tells "not allowed" from a failure, warnings, and the bounded removal
of a cgroup directory. It imports no other module of the package.

The factory that picks a backend (`cgroup_manager`, `load_cgroup_manager`) sits above the
backends, in the package itself (`porter_runtime.cgroups`).
"""

from __future__ import annotations

import os

from porter_specs.errors import PorterError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Iterable

CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP2_SUPER_MAGIC = 0x63677270


class CgroupError(PorterError):
    """A cgroup could not be created, written, read or removed.

    Carries the cgroup path and the controller or file involved so the user sees
    exactly which knob failed.
    """

    def __init__(self, path: str, what: str, reason: str) -> None:
        super().__init__(f"cgroup {path}: {what}: {reason}")
        self.path = path
        self.what = what
        self.reason = reason


def not_allowed(exc: BaseException) -> bool:
    """A cgroup error that only means "not allowed" to an unprivileged runtime (EPERM,
    EACCES, EROFS), which then goes on without the cgroup; to root every error counts."""
    return os.geteuid() != 0 and getattr(exc.__cause__, "errno", 0) in (1, 13, 30)


def warn(logger: str, message: str, *args: object) -> None:
    """A warning through `logging`, imported only when there is something to say."""
    import logging

    logging.getLogger(logger).warning(message, *args)


def rmdir_bounded(directory: str, attempts: int = 10) -> None:
    """Remove a cgroup directory and its child cgroups, children first.

    Retries a few times because the kernel keeps a cgroup busy briefly after its last
    process exits. A directory that is already gone counts as removed.
    """
    import time

    try:  # the usual case, a leaf: no need to list its (many) interface files first
        os.rmdir(directory)
        return
    except FileNotFoundError:
        return
    except OSError:
        pass
    try:
        children = [e.path for e in os.scandir(directory) if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return
    except OSError as e:
        raise CgroupError(directory, "scan", e.strerror or str(e)) from e
    for child in children:
        rmdir_bounded(child, attempts)
    delay = 0.005
    for attempt in range(attempts):
        try:
            os.rmdir(directory)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            live = _procs(directory)
            if live:
                raise CgroupError(directory, "rmdir", f"still has processes {live[:5]}") from e
            if attempt == attempts - 1:
                raise CgroupError(directory, "rmdir", e.strerror or str(e)) from e
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def rmdir_each(directories: Iterable[str]) -> None:
    """`rmdir_bounded` every directory (a v1 container has one per hierarchy), all of them
    tried even when one fails; the first failure is raised afterwards."""
    first: CgroupError | None = None
    for directory in directories:
        try:
            rmdir_bounded(directory)
        except CgroupError as e:
            first = first or e
    if first is not None:
        raise first


def _procs(directory: str) -> list[int]:
    try:
        with open(os.path.join(directory, "cgroup.procs"), encoding="utf-8") as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []
