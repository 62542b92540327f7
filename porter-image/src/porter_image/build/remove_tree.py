"""Removing a step's folder however many files it holds, in memory that does not grow with them.

shutil.rmtree lists each folder whole before removing anything in it, so a step that wrote a
million files into one folder would hold a million names at the end of the build. Here each
folder is read a batch of names at a time, through descriptors (no symlink is followed, no
other filesystem mounted below is entered), and read again from its start after each batch,
which then holds only what is left. What cannot be removed is left, as rmtree's
`ignore_errors` leaves it.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
from pathlib import Path

BATCH = 4096
_OPEN = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: Path | str) -> None:
    """Remove `path` (a folder, a file or a symlink) and everything below it."""
    try:
        fd = os.open(path, _OPEN)
    except OSError as err:
        if err.errno in (errno.ENOTDIR, errno.ELOOP):  # a file, or a symlink: itself goes
            with contextlib.suppress(OSError):
                os.unlink(path)
        return
    try:
        _empty(fd, os.fstat(fd).st_dev)
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _empty(fd: int, device: int) -> None:
    """Remove what the open folder `fd` holds, a batch of names at a time."""
    while True:
        with os.scandir(fd) as entries:  # closing it rewinds the folder for the next batch
            batch = [
                (e.name, e.is_dir(follow_symlinks=False)) for e in itertools.islice(entries, BATCH)
            ]
        removed = False
        for name, is_dir in batch:
            with contextlib.suppress(OSError):
                if is_dir:
                    _remove_folder(fd, name, device)
                else:
                    os.unlink(name, dir_fd=fd)
                removed = True
        if not removed:  # empty, or nothing left that can be removed
            return


def _remove_folder(parent: int, name: str, device: int) -> None:
    fd = os.open(name, _OPEN, dir_fd=parent)
    try:
        if os.fstat(fd).st_dev != device:
            raise OSError(f"{name}: another filesystem is mounted here")
        _empty(fd, device)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent)
