"""Control groups for containers: one interface, a v1 and a v2 backend.

    manager = cgroup_manager(config["linux"], container_id)
    manager.create(); manager.set(config["linux"].get("resources", {}))
    pid, placed = clone.fork_into(manager.clone_target())  # then, in the child:
    manager.join_self(placed)  # (or manager.apply(pid) from outside, which waits longer)

The backends are imported only when a manager is built.
"""

from porter_runtime.cgroups.base import (
    CgroupError,
    cgroup_manager,
    is_unified,
    load_cgroup_manager,
    not_allowed,
)


def __getattr__(name: str) -> object:
    """Names imported on first use only: the Protocol (typing), and the device rules that
    only a create with device resources needs (delete, kill and update never do)."""
    if name == "CgroupManager":
        from porter_runtime.cgroups.protocol import CgroupManager

        return CgroupManager
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
