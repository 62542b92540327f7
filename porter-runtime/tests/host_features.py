"""What this host offers the runtime's tests, probed: the one place a test asks before it
relies on a host feature (a cgroup v1 controller or file, a namespace kind, a peer program,
a kernel interface), so that where the feature is missing it skips and says why.

Every probe returns the reason the feature is missing, or None when it is there; the
`needs_*` helpers turn that into a skip marker. The probes take the folders they look in as
arguments (defaulting to the host's), so their own tests run them against fake folders.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

import pytest

PROC_NS = "/proc/self/ns"
SECCOMP_ACTIONS = "/proc/sys/kernel/seccomp/actions_avail"
PROC_KEYS = "/proc/keys"


def _v1_mounts() -> dict[str, str]:
    if os.geteuid() != 0:
        return {}
    from porter_runtime.cgroups.paths import is_unified, v1_mounts

    return {} if is_unified() else v1_mounts()


def missing_v1_controller(*controllers: str, mounts: Mapping[str, str] | None = None) -> str | None:
    """Why one of `controllers` has no v1 hierarchy here, or None when all have one."""
    mounts = _v1_mounts() if mounts is None else mounts
    missing = [c for c in controllers if c not in mounts]
    if missing:
        return f"no cgroup v1 {', '.join(missing)} hierarchy on this host"
    return None


def missing_v1_file(
    controller: str, *names: str, mounts: Mapping[str, str] | None = None
) -> str | None:
    """Why `controller`'s v1 hierarchy lacks one of the files `names` (the kernel offers a
    file in the hierarchy's root and in every cgroup below alike), or None when it has all.
    A name given as "a|b" is satisfied by either file (blkio.weight|blkio.bfq.weight)."""
    mounts = _v1_mounts() if mounts is None else mounts
    reason = missing_v1_controller(controller, mounts=mounts)
    if reason:
        return reason
    root = mounts[controller]
    for name in names:
        choices = name.split("|")
        if not any(os.path.exists(os.path.join(root, choice)) for choice in choices):
            shown = " or ".join(choices)
            return f"the {controller} cgroup has no {shown} on this host (kernel without it)"
    return None


def missing_namespace(kind: str, ns_dir: str = PROC_NS) -> str | None:
    """Why the kernel has no `kind` namespace ("time", "cgroup", ...), or None."""
    if not os.path.exists(os.path.join(ns_dir, kind)):
        return f"the kernel has no {kind} namespace ({ns_dir}/{kind} is missing)"
    return None


def missing_seccomp_action(action: str, actions_file: str = SECCOMP_ACTIONS) -> str | None:
    """Why the kernel's seccomp lacks `action` ("user_notif", "log", ...), or None."""
    try:
        with open(actions_file) as f:
            available = f.read().split()
    except OSError:
        return f"the kernel has no seccomp ({actions_file} is unreadable)"
    if action not in available:
        return f"the kernel's seccomp has no {action} action"
    return None


def missing_file(path: str, what: str) -> str | None:
    """Why the host file `path` (`what` it is) is not there, or None."""
    return None if os.path.exists(path) else f"{what} is missing here ({path})"


def missing_program(name: str, path: str | None = None) -> str | None:
    """Why the program `name` cannot be run (not on PATH), or None."""
    if shutil.which(name, path=path) is None:
        return f"{name} is not installed"
    return None


def kernel_version(release: str | None = None) -> tuple[int, int]:
    """(major, minor) of a kernel release such as "6.18.44-fc-v1300" (this host's)."""
    release = os.uname().release if release is None else release
    numbers = release.split("-", 1)[0].split(".")
    return int(numbers[0]), int(numbers[1]) if len(numbers) > 1 else 0


def missing_kernel(minimum: tuple[int, int], what: str, release: str | None = None) -> str | None:
    """Why the running kernel is too old for `what` (it came in `minimum`), or None."""
    have = kernel_version(release)
    if have < minimum:
        return f"{what} needs Linux {minimum[0]}.{minimum[1]}; this is {have[0]}.{have[1]}"
    return None


def needs(reason: str | None) -> pytest.MarkDecorator:
    """A skip marker from a probe's answer: `@needs(missing_program("gcc"))`."""
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def skip_unless(reason: str | None) -> None:
    """Skips the running test when a probe gave a reason (for probes made at run time)."""
    if reason is not None:
        pytest.skip(reason)
