"""The container's /dev: default devices, linux.devices, and the standard symlinks."""

from __future__ import annotations

import os
import stat

from porter_runtime import syscalls as sc
from porter_runtime.errors import ConfigError, SyscallError
from porter_runtime.securejoin import open_in_root

# (path, type, major, minor): what every Linux container gets (runtime-spec "Default Devices")
DEFAULT_DEVICES: tuple[tuple[str, str, int, int], ...] = (
    ("/dev/null", "c", 1, 3),
    ("/dev/zero", "c", 1, 5),
    ("/dev/full", "c", 1, 7),
    ("/dev/random", "c", 1, 8),
    ("/dev/urandom", "c", 1, 9),
    ("/dev/tty", "c", 5, 0),
)

DEFAULT_SYMLINKS: tuple[tuple[str, str], ...] = (
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
)

_TYPES = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}


def device_list(config_devices: list[dict]) -> list[dict]:
    """Default devices followed by the config's; a config entry replaces a default of its path."""
    wanted = {d["path"]: d for d in config_devices}
    result = [
        {"path": p, "type": t, "major": ma, "minor": mi, "fileMode": 0o666, "uid": 0, "gid": 0}
        for p, t, ma, mi in DEFAULT_DEVICES
        if p not in wanted
    ]
    for device in config_devices:
        if device.get("type") not in _TYPES:
            raise ConfigError(
                f"device {device.get('path')}",
                f"unknown type {device.get('type')!r} (use c, u, b or p)",
            )
        result.append(device)
    return result


def create_devices(calls: object, rootfs: str, devices: list[dict], bind: bool) -> None:
    """Create each device node in the rootfs: mknod, or a bind mount of the host's node.

    Bind mounts are used in a user namespace, where mknod is not allowed (and as a fallback
    when mknod fails with EPERM).
    """
    for device in devices:
        path = device["path"]
        parent, name = os.path.split(path)
        dirfd = open_in_root(rootfs, parent or "/", create="dir")
        try:
            target = f"/proc/self/fd/{dirfd}/{name}"
            if not bind:
                try:
                    _mknod(calls, target, device)
                    continue
                except SyscallError as exc:
                    if exc.errno != 1:  # EPERM: fall through to a bind mount
                        raise
            _bind_device(calls, rootfs, path)
        finally:
            os.close(dirfd)


def _mknod(calls: object, target: str, device: dict) -> None:
    mode = _TYPES[device["type"]] | (device.get("fileMode") or 0o666) & 0o7777
    try:
        calls.mknod(target, mode, device.get("major", 0), device.get("minor", 0))
    except SyscallError as exc:
        if exc.errno != 17:  # EEXIST: the image already has it
            raise
        return
    if os.path.exists(target):  # absent only under the recording fake
        os.chown(target, device.get("uid") or 0, device.get("gid") or 0, follow_symlinks=False)


def _bind_device(calls: object, rootfs: str, path: str) -> None:
    if not os.path.exists(path):
        raise ConfigError(
            f"device {path}",
            "cannot be created in a user namespace and the host has no such device to bind",
        )
    fd = open_in_root(rootfs, path, create="file")
    try:
        calls.mount(path, f"/proc/self/fd/{fd}", "bind", sc.MS_BIND, "")
    finally:
        os.close(fd)


def create_symlinks(rootfs: str, with_ptmx: bool) -> None:
    """/dev/fd, /dev/std{in,out,err}, /dev/core if the host has /proc/kcore, /dev/ptmx."""
    links = list(DEFAULT_SYMLINKS)
    if os.path.exists("/proc/kcore"):
        links.append(("/proc/kcore", "/dev/core"))
    devfd = open_in_root(rootfs, "/dev", create="dir")
    try:
        for target, link in links:
            try:  # noqa: SIM105 (contextlib costs start-up time)
                os.symlink(target, os.path.basename(link), dir_fd=devfd)
            except FileExistsError:
                pass
        if with_ptmx:
            try:  # noqa: SIM105 (contextlib costs start-up time)
                os.unlink("ptmx", dir_fd=devfd)
            except FileNotFoundError:
                pass
            os.symlink("pts/ptmx", "ptmx", dir_fd=devfd)
    finally:
        os.close(devfd)
