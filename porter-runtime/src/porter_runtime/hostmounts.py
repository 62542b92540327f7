"""Mounts that a container without a mount namespace of its own leaves in the runtime's.

The runtime-spec says a namespace left out of linux.namespaces is shared with the runtime,
so such a container's mounts (/proc, /dev, masks, ...) land in the host's mount table.
The init makes them all under one private bind mount of the rootfs onto itself; this
module finds that bind mount by its mount id and detaches it, which takes every mount
beneath it along: a failed create and `delete` leave the host's mount table as it was.
"""

from __future__ import annotations

import os

MOUNTINFO = "/proc/self/mountinfo"


def _unescape(field: str) -> str:
    return (
        field.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
    )


def mounts_at(path: str, mountinfo: str = MOUNTINFO) -> list[tuple[int, int]]:
    """(mount id, parent id) of every mount whose mount point is `path`, oldest first."""
    found = []
    with open(mountinfo) as f:
        for line in f:
            fields = line.split(" ", 5)
            if _unescape(fields[4]) == path:
                found.append((int(fields[0]), int(fields[1])))
    return found


def topmost(path: str, mountinfo: str = MOUNTINFO) -> int | None:
    """The id of the mount that covers `path` (no other mount at `path` sits on it)."""
    stack = mounts_at(path, mountinfo)
    parents = {parent for _, parent in stack}
    tops = [mount_id for mount_id, _ in stack if mount_id not in parents]
    return tops[-1] if tops else None


def new_since(path: str, before: set[int]) -> int | None:
    """The mount at `path` that was not there when `before` was taken (ours), if any."""
    top = topmost(path)
    return top if top is not None and top not in before else None


def detach(path: str, mount_id: int) -> bool:
    """Lazily unmount `mount_id` (and everything under it) if it still covers `path`.

    A mount stacked on top by someone else is left alone (False): unmounting by path would
    take theirs instead of ours."""
    if topmost(path) != mount_id:
        return False
    from porter_runtime.syscalls import MNT_DETACH
    from porter_runtime.syscalls.linux import LinuxSyscalls

    LinuxSyscalls().umount2(path, MNT_DETACH)
    return True


def detach_new(path: str, before: set[int]) -> None:
    """Undo of a failed create: detach what was mounted at `path` since `before`."""
    for _ in range(8):  # bounded: the init makes one bind mount here
        mount_id = new_since(path, before)
        if mount_id is None or not detach(path, mount_id):
            return


def current_ids(path: str) -> set[int]:
    if not os.path.isdir(path):
        return set()
    return {mount_id for mount_id, _ in mounts_at(path)}
