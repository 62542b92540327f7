"""The cgroup interface the runtime core programs against, its error, and the factory.

The runtime never cares whether the host runs cgroup v1 or v2: it asks `cgroup_manager()`
for a `CgroupManager` and calls the same methods on either backend. Backends live in
`v1.py` and `v2.py` and are imported lazily so that commands which never touch cgroups
(`state`, `list`) do not pay for them.
"""

from __future__ import annotations

import os

from porter_specs.errors import PorterError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Mapping
    from typing import Any

    from porter_runtime.cgroups.paths import Mount
    from porter_runtime.cgroups.protocol import CgroupManager

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


def is_unified(root: str = CGROUP_ROOT, mounts: list[Mount] | None = None) -> bool:
    """True when `root` is a cgroup2 mount, i.e. the host runs the unified hierarchy only.

    What counts is the mount a lookup reaches (`paths.visible_mounts`, by default this
    process's): a cgroup2 mounted over a hybrid host's tmpfs hides the v1 hierarchies."""
    from porter_runtime.cgroups.paths import visible_mounts

    for mount in visible_mounts() if mounts is None else mounts:
        if mount.point == root:
            return mount.fstype == "cgroup2"
    return False


def cgroup_manager(
    config_linux: Mapping[str, Any] | None,
    container_id: str,
    rootless: bool = False,
) -> CgroupManager:
    """Build the manager for a container from its config's `linux` object.

    v2 when /sys/fs/cgroup is cgroup2, v1 otherwise (hybrid hosts included). The
    cgroupsPath may be absent (`/porter-runtime/<id>`), absolute, relative to the
    runtime's own cgroup, or systemd's "slice:prefix:name" (mapped to a cgroupfs path).
    """
    from porter_runtime.cgroups import paths

    cgroups_path = (config_linux or {}).get("cgroupsPath")
    mounts = paths.visible_mounts()  # read once for both questions
    if is_unified(mounts=mounts):
        from porter_runtime.cgroups.v2 import CgroupV2Manager

        own_v2 = paths.own_cgroups().get(paths.UNIFIED, "/")
        return CgroupV2Manager(paths.resolve(cgroups_path, container_id, own_v2), rootless=rootless)
    from porter_runtime.cgroups.v1 import CgroupV1Manager

    hierarchies = paths.v1_mounts(mounts)
    own = paths.own_cgroups()
    resolved = {
        name: paths.resolve(cgroups_path, container_id, own.get(name, "/")) for name in hierarchies
    }
    return CgroupV1Manager(resolved, mounts=hierarchies, rootless=rootless)


def load_cgroup_manager(
    path: str, paths: Mapping[str, str] | None = None, rootless: bool = False
) -> CgroupManager:
    """Re-open a container's cgroup from what was saved in its state.

    `path` is `manager.path`. On v1 a relative cgroupsPath can resolve differently per
    controller; pass the saved `manager.paths` to restore those exactly.
    """
    if not path.startswith("/"):
        raise CgroupError(path, "load", "a saved cgroup path must be absolute")
    from porter_runtime.cgroups import paths as paths_mod

    visible = paths_mod.visible_mounts()  # read once for both questions
    if is_unified(mounts=visible):
        from porter_runtime.cgroups.v2 import CgroupV2Manager

        return CgroupV2Manager(path, rootless=rootless)
    from porter_runtime.cgroups.v1 import CgroupV1Manager

    mounts = paths_mod.v1_mounts(visible)
    saved = dict(paths or {})
    resolved = {name: saved.get(name, path) for name in mounts}
    return CgroupV1Manager(resolved, mounts=mounts, rootless=rootless)


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


def _procs(directory: str) -> list[int]:
    try:
        with open(os.path.join(directory, "cgroup.procs"), encoding="utf-8") as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []
