"""The host's devices, as a privileged container gets them: every character and block
device below /dev as a runtime-spec `linux.devices` entry, found as dockerd's `HostDevices`
finds them (the folders of pseudo-terminals, shared memory, message queues and descriptors
are skipped, and so are /dev/console and /dev/ptmx, which the runtime makes itself: the
console for a terminal, ptmx as the link into the container's own devpts)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

SKIPPED_FOLDERS = frozenset({"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"})
SKIPPED_PATHS = frozenset({"/dev/console", "/dev/ptmx"})
DEV = Path("/dev")


def host_devices() -> list[dict[str, Any]]:
    """Each device node below /dev, in path order (symbolic links are not followed)."""
    devices = []
    for folder, dirs, files in os.walk(DEV):
        dirs[:] = sorted(name for name in dirs if name not in SKIPPED_FOLDERS)
        for name in sorted(files):
            device = _device(Path(folder) / name)
            if device is not None and device["path"] not in SKIPPED_PATHS:
                devices.append(device)
    return devices


def _device(path: Path) -> dict[str, Any] | None:
    try:
        info = os.lstat(path)
    except OSError:  # gone since the folder was read
        return None
    if stat.S_ISCHR(info.st_mode):
        kind = "c"
    elif stat.S_ISBLK(info.st_mode):
        kind = "b"
    else:
        return None
    return {
        "path": str(path),
        "type": kind,
        "major": os.major(info.st_rdev),
        "minor": os.minor(info.st_rdev),
        "fileMode": stat.S_IMODE(info.st_mode),
        "uid": info.st_uid,
        "gid": info.st_gid,
    }
