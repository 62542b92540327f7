"""The container's files as the container sees them, for `docker cp`: a child process, run
by `unshare --mount --propagation private` when the container has volumes or bind mounts,
binds each of them onto its destination in the rootfs (in its own mount namespace, so that
nothing shows outside), then stats, archives or unpacks a path as dockerd does once it has
mounted the container's volumes.

    python -I -m porterd.containers.archive_view stat|tar|extract ROOTFS PATH POINTS [ro]

POINTS is the JSON list of the container's mount points (inspect's shape); `ro` makes the
rootfs read-only below them (a container with a read-only rootfs takes copies into its
writable volumes only). `stat` prints
the base64 header of `X-Docker-Container-Path-Stat`; `tar` writes the archive of PATH to
standard output; `extract` unpacks the archive on standard input into the folder PATH after
a chroot into the rootfs, so that no symlink (in the container or the archive) leads out.
A bad path exits with NOT_FOUND or INVALID and its message as the last line on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from porter_image.exec_user import scoped_path
from porterd.containers import files
from porterd.errors import InvalidParameter, NotFound

NOT_FOUND, INVALID, READONLY_ROOT = files.VIEW_NOT_FOUND, files.VIEW_INVALID, files.VIEW_READONLY


def bind_points(rootfs: Path, points: list[dict[str, Any]], readonly_root: bool) -> None:
    """Each volume and bind mount onto its destination in the rootfs (made if missing, as a
    start would make it), read-only where the container has it read-only; the rootfs itself
    read-only below them for a container with a read-only rootfs."""
    ordered = sorted(points, key=lambda p: p["Destination"].count("/"))
    targets = [_mount_point(rootfs, point) for point in ordered]
    if readonly_root:
        _bind(str(rootfs), rootfs, writable=False, recursive=False)
    for point, target in zip(ordered, targets, strict=True):
        _bind(point["Source"], target, writable=point["RW"], recursive=True)


def _mount_point(rootfs: Path, point: dict[str, Any]) -> Path:
    target = scoped_path(rootfs, point["Destination"])
    if os.path.isdir(point["Source"]):
        target.mkdir(parents=True, exist_ok=True)
    elif not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    return target


def _bind(source: str, target: Path, *, writable: bool, recursive: bool) -> None:
    subprocess.run(["mount", "--rbind" if recursive else "--bind", source, str(target)], check=True)
    if not writable:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], check=True)


def extract_into(rootfs: Path, inside: str) -> None:
    """Unpack standard input into `inside` (a folder of the rootfs) from within a chroot."""
    os.chroot(rootfs)
    os.chdir("/")
    with tarfile.open(fileobj=sys.stdin.buffer, mode="r|*") as archive:
        archive.extractall(inside, numeric_owner=True)


def main(argv: list[str]) -> int:
    operation, rootfs, path, points = argv[0], Path(argv[1]), argv[2], json.loads(argv[3])
    try:
        bind_points(rootfs, points, readonly_root=argv[4:] == [READONLY_ROOT])
        if operation == "stat":
            sys.stdout.write(files.stat_header(files.resolve_in_rootfs(rootfs, path), path))
        elif operation == "tar":
            command = files.tar_command(rootfs, files.resolve_in_rootfs(rootfs, path))
            os.execvp(command[0], command)
        else:
            extract_into(rootfs, files.extraction_point(rootfs, path))
    except NotFound as error:
        print(error, file=sys.stderr)
        return NOT_FOUND
    except InvalidParameter as error:
        print(error, file=sys.stderr)
        return INVALID
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
