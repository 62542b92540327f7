"""The rootfs of a container: an overlay mount of snapshots plus an upper and a work folder.

The lowerdir option is one string, and mount(2) takes at most a page of options. Snapshots
are named by short links in one folder (`SnapshotStore`), and the mount is made from inside
that folder with relative lowerdirs, as docker's overlay2 driver does: about 17 bytes per
layer, so about 240 layers fit (docker allows 125; the kernel stacks at most 500).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from porter_image.snapshots.errors import SnapshotError

MAX_OPTIONS = 4095  # one page, less the terminating NUL
MAX_LAYERS = 500  # the kernel's OVL_MAX_STACK


def overlay_options(lowerdirs: Sequence[Path], upper: Path, work: Path) -> tuple[str, Path | None]:
    """The mount options and the folder to mount from (None: the paths are absolute)."""
    if not lowerdirs:
        raise SnapshotError("overlay", "needs at least one lowerdir")
    if len(lowerdirs) > MAX_LAYERS:
        raise SnapshotError("overlay", f"{len(lowerdirs)} layers, the kernel stacks {MAX_LAYERS}")
    for path in (*lowerdirs, upper, work):
        if any(c in str(path) for c in ",:\\"):
            raise SnapshotError(path, "an overlay path may not contain ',', ':' or '\\'")
    tail = f",upperdir={Path(upper).absolute()},workdir={Path(work).absolute()}"
    absolute = "lowerdir=" + ":".join(str(Path(p).absolute()) for p in lowerdirs) + tail
    if len(absolute) <= MAX_OPTIONS:
        return absolute, None
    base = Path(os.path.commonpath([Path(p).absolute().parent for p in lowerdirs]))
    relative = "lowerdir=" + ":".join(os.path.relpath(p, base) for p in lowerdirs) + tail
    if len(relative) > MAX_OPTIONS:
        raise SnapshotError("overlay", f"{len(lowerdirs)} lowerdirs do not fit in mount options")
    return relative, base


def mount_overlay(lowerdirs: Sequence[Path], upper: Path, work: Path, target: Path) -> None:
    """Mount an overlay of `lowerdirs` (topmost first) with `upper` and `work` on `target`.

    `upper` and `work` are created when missing and must be on one filesystem; `target` must
    exist. Needs CAP_SYS_ADMIN in the mount namespace.
    """
    for path in (upper, work):
        Path(path).mkdir(mode=0o755, parents=True, exist_ok=True)
    options, cwd = overlay_options(lowerdirs, upper, work)
    _run(["mount", "-t", "overlay", "overlay", "-o", options, str(target)], target, cwd)


def unmount(target: Path, lazy: bool = False) -> None:
    """Unmount the overlay on `target`; `lazy` detaches it even while something uses it."""
    _run(["umount", *(["--lazy"] if lazy else []), str(target)], target, None)


def _run(argv: list[str], target: Path, cwd: Path | None) -> None:
    try:
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SnapshotError(target, f"{argv[0]} failed: {exc}") from exc
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
        raise SnapshotError(target, f"{argv[0]}: {reason}")
