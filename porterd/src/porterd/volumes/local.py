"""The local driver's folders and mounts; nothing here knows about the database."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from porterd.errors import DaemonError, InvalidParameter

OPTION_KEYS = ("type", "device", "o")


def check_options(options: Mapping[str, str]) -> None:
    """dockerd's local driver accepts `type`, `device` and `o`, and `device` with `type`."""
    for key in options:
        if key not in OPTION_KEYS:
            raise InvalidParameter(f"invalid option key: {key!r}")
    if options and ("type" not in options or "device" not in options):
        raise InvalidParameter('missing required option: both "type" and "device" are needed')


def make_folder(data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    data.parent.chmod(0o701)  # like dockerd: the volume folder is not listable by others


def mount(data: Path, options: Mapping[str, str]) -> None:
    """Mount the volume's device on `data` unless it is mounted already."""
    if not options or os.path.ismount(data):
        return
    command = ["mount", "-t", options["type"]]
    mount_options = options.get("o", "")
    if options["type"] == "bind" and "bind" not in mount_options.split(","):
        mount_options = ",".join(filter(None, [mount_options, "bind"]))
    if mount_options:
        command += ["-o", mount_options]
    result = subprocess.run(
        [*command, options["device"], str(data)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        reason = result.stderr.strip() or f"mount exited with {result.returncode}"
        raise DaemonError(f"error while mounting volume '{data}': {reason}")


def unmount(data: Path) -> None:
    if os.path.ismount(data):
        result = subprocess.run(["umount", str(data)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise DaemonError(f"error while unmounting volume '{data}': {result.stderr.strip()}")


def remove_folder(data: Path) -> None:
    unmount(data)
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(data.parent)
