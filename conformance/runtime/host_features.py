"""What this host offers, probed: the one place a conformance check asks before it relies
on a host feature (a cgroup controller or one of its files, a namespace kind, a program),
so that where the feature is missing the check skips and says why, for every runtime alike.

Each probe returns the reason the feature is missing, or None when it is there; `needs`
turns that into a skip marker. The probes take the mounts or folders they look in as
arguments (defaulting to the host's), so their own tests run them against fake ones.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from conformance.runtime import hostfs

PROC_NS = Path("/proc/self/ns")


def missing_controller(*controllers: str, mounts: Mapping[str, Path] | None = None) -> str | None:
    """Why one of `controllers` is not available here (neither a v1 hierarchy of its own
    nor enabled in the v2 root's cgroup.controllers), or None."""
    mounts = hostfs.cgroup_mounts() if mounts is None else mounts
    unified = mounts.get("")
    v2_file = unified / "cgroup.controllers" if unified else None
    v2 = v2_file.read_text().split() if v2_file and v2_file.exists() else []
    missing = [name for name in controllers if name not in mounts and name not in v2]
    return f"no cgroup {', '.join(missing)} controller on this host" if missing else None


def missing_freezer(mounts: Mapping[str, Path] | None = None) -> str | None:
    """Why containers cannot be frozen here (no v1 freezer hierarchy, and no cgroup.freeze in
    the unified hierarchy's cgroups: a kernel before 5.2), or None."""
    mounts = hostfs.cgroup_mounts() if mounts is None else mounts
    unified = mounts.get("")
    if "freezer" in mounts or (unified and any(unified.glob("*/cgroup.freeze"))):
        return None
    return "no cgroup freezer on this host (neither v1's nor cgroup.freeze)"


def missing_cgroup_file(
    controller: str, *names: str, mounts: Mapping[str, Path] | None = None
) -> str | None:
    """Why `controller`'s v1 hierarchy lacks one of the files `names` (a file the kernel
    offers is in the hierarchy's root and every cgroup below alike), or None when it has
    all. A name "a|b" is satisfied by either file (blkio.weight|blkio.bfq.weight)."""
    mounts = hostfs.cgroup_mounts() if mounts is None else mounts
    if controller not in mounts:
        return f"no cgroup v1 {controller} hierarchy on this host"
    for name in names:
        choices = name.split("|")
        if not any((mounts[controller] / choice).exists() for choice in choices):
            return f"the {controller} cgroup has no {' or '.join(choices)} on this host"
    return None


def root_block_device(
    root: str | Path = "/", sys_block: Path = Path("/sys/dev/block")
) -> tuple[int, int] | None:
    """The whole disk (major, minor) that holds `root`'s file system, for per-device limits,
    or None when that file system is not on a block device (overlay, tmpfs, virtiofs)."""
    device = os.stat(root).st_dev
    major, minor = os.major(device), os.minor(device)
    if (sys_block / f"{major}:0").exists():
        return major, 0
    return (major, minor) if (sys_block / f"{major}:{minor}").exists() else None


def missing_namespace(kind: str, ns_dir: Path = PROC_NS) -> str | None:
    """Why the kernel has no `kind` namespace ("time", "cgroup", ...), or None."""
    return None if (ns_dir / kind).exists() else f"the kernel has no {kind} namespace"


def missing_program(name: str, path: str | None = None) -> str | None:
    """Why the program `name` cannot be run (not on PATH), or None."""
    return None if shutil.which(name, path=path) else f"{name} is not installed"


def missing_file(path: str | Path, what: str) -> str | None:
    """Why the host file `path` (`what` it is) cannot be used, or None."""
    return None if os.path.exists(path) else f"{what} is missing ({path})"


def needs(reason: str | None) -> pytest.MarkDecorator:
    """A skip marker from a probe's answer: `@needs(missing_namespace("time"))`."""
    return pytest.mark.skipif(reason is not None, reason=reason or "")
