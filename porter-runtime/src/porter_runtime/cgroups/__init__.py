"""Control groups for containers: one interface, a v1 and a v2 backend, and the factory
that picks one (here, above the backends, which never import it).

    manager = cgroup_manager(config["linux"], container_id)
    manager.create(); manager.set(config["linux"].get("resources", {}))
    pid, placed = clone.fork_into(manager.clone_target())  # then, in the child:
    manager.join_self(placed)  # (or manager.apply(pid) from outside, which waits longer)

The runtime never cares whether the host runs cgroup v1 or v2: it asks `cgroup_manager()`
for a `CgroupManager` and calls the same methods on either backend. The backends (and the
mount table they are chosen by) are imported only when a manager is built, so that commands
which never touch cgroups (`state`, `list`) do not pay for them.
"""

from __future__ import annotations

from porter_runtime.cgroups.base import CgroupError, not_allowed

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Mapping
    from typing import Any

    from porter_runtime.cgroups import paths
    from porter_runtime.cgroups.devices import DEFAULT_ALLOWED_DEVICES
    from porter_runtime.cgroups.paths import is_unified
    from porter_runtime.cgroups.protocol import CgroupManager


def cgroup_manager(
    config_linux: Mapping[str, Any] | None,
    container_id: str,
    rootless: bool = False,
    mounts: list[paths.Mount] | None = None,
) -> CgroupManager:
    """Build the manager for a container from its config's `linux` object.

    v2 when /sys/fs/cgroup is cgroup2, v1 otherwise (hybrid hosts included). The
    cgroupsPath may be absent (`/porter-runtime/<id>`), absolute, relative to the
    runtime's own cgroup, or systemd's "slice:prefix:name" (mapped to a cgroupfs path).
    `mounts` is this process's `paths.visible_mounts()`, read here unless the caller has it.
    """
    from porter_runtime.cgroups import paths

    cgroups_path = (config_linux or {}).get("cgroupsPath")
    if mounts is None:
        mounts = paths.visible_mounts()  # read once for both questions
    if paths.is_unified(mounts=mounts):
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
    if paths_mod.is_unified(mounts=visible):
        from porter_runtime.cgroups.v2 import CgroupV2Manager

        return CgroupV2Manager(path, rootless=rootless)
    from porter_runtime.cgroups.v1 import CgroupV1Manager

    mounts = paths_mod.v1_mounts(visible)
    saved = dict(paths or {})
    resolved = {name: saved.get(name, path) for name in mounts}
    return CgroupV1Manager(resolved, mounts=mounts, rootless=rootless)


def __getattr__(name: str) -> object:
    """Names imported on first use only: the Protocol (typing), the host check that reads
    the mount table, and the device rules that only a create with device resources needs
    (delete, kill and update never do)."""
    if name == "CgroupManager":
        from porter_runtime.cgroups.protocol import CgroupManager

        return CgroupManager
    if name == "is_unified":
        from porter_runtime.cgroups.paths import is_unified

        return is_unified
    if name == "DEFAULT_ALLOWED_DEVICES":
        from porter_runtime.cgroups.devices import DEFAULT_ALLOWED_DEVICES

        return DEFAULT_ALLOWED_DEVICES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_ALLOWED_DEVICES",
    "CgroupError",
    "CgroupManager",
    "cgroup_manager",
    "is_unified",
    "load_cgroup_manager",
    "not_allowed",
]
