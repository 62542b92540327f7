"""Resolving a container path inside the root filesystem without ever leaving it.

A mount destination such as /etc/x may run through symlinks the image controls; following
them with the host's view could mount over host paths. `porter_specs.rootfs_path` resolves
it component by component, treating every symlink target as relative to the rootfs and
clamping `..` at its top (as filepath-securejoin does). `open_in_root` then walks the
resolved path again with O_NOFOLLOW descriptors, creating what is missing, and returns an
O_PATH descriptor: the caller mounts onto /proc/self/fd/N, so a component swapped for a
symlink between the check and the mount cannot redirect it (the race of CVE-2021-30465).
"""

from __future__ import annotations

import os
import stat

from porter_specs.rootfs_path import SymlinkLoopError, scoped_join

from porter_runtime.errors import ConfigError

O_PATH = getattr(os, "O_PATH", 0o10000000)


def open_in_root(root: str, unsafe: str, create: str | None = None, mode: int = 0o755) -> int:
    """An O_PATH descriptor of `unsafe` inside `root`; `create` is None, "dir" or "file".

    Missing directories (and, for "file", the last component) are created on the way.
    Raises ConfigError when the path would leave the root or cannot be created.
    """
    root = root.rstrip("/") or "/"
    try:
        joined = scoped_join(root, unsafe)
    except SymlinkLoopError:
        raise ConfigError(f"path {unsafe}", "too many levels of symbolic links") from None
    relative = [part for part in joined[len(root) :].split("/") if part]
    fd = os.open(root, O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for index, part in enumerate(relative):
            last = index == len(relative) - 1
            dirfd, fd = fd, -1  # _step always closes the directory it is given
            fd = _step(dirfd, part, create if last else "dir", mode, unsafe)
        _check_inside(fd, root, unsafe)
        return fd
    except BaseException:
        if fd >= 0:
            os.close(fd)
        raise


def _step(dirfd: int, name: str, create: str | None, mode: int, unsafe: str) -> int:
    """Open `name` under `dirfd` (O_PATH, no symlinks), creating it as asked; closes dirfd."""
    try:
        try:
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
        except FileNotFoundError:
            if create == "dir":
                os.mkdir(name, mode, dir_fd=dirfd)
            elif create == "file":
                os.close(
                    os.open(
                        name,
                        os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                        0o644,
                        dir_fd=dirfd,
                    )
                )
            else:
                raise
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            # scoped_join resolved every link: one appearing now is a race
            raise ConfigError(f"path {unsafe}", f"component {name!r} changed into a symlink")
        if create == "dir" and not stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"path {unsafe}", f"{name!r} exists and is not a directory")
        return os.open(name, O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dirfd)
    except OSError as exc:
        raise ConfigError(f"path {unsafe}", f"{name}: {exc.strerror}") from exc
    finally:
        os.close(dirfd)


def _check_inside(fd: int, root: str, unsafe: str) -> None:
    real = os.readlink(f"/proc/self/fd/{fd}")
    if real != root and not real.startswith(root.rstrip("/") + "/"):
        raise ConfigError(f"path {unsafe}", f"resolves to {real}, outside the root filesystem")
