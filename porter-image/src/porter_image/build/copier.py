"""COPY and ADD into a step's mounted rootfs, with Docker's rules for where things land.

A source folder's contents (not the folder) go to the destination; a file goes to the
destination itself, or into it when the destination ends in `/`, there are several sources,
the source was a wildcard, or the destination is already a folder. New files belong to 0:0
unless `--chown` says otherwise, and keep their mode (unless `--chmod`) and mtime. Paths in
the rootfs are resolved inside it, so an image's symlinks never lead the copy out.
"""

from __future__ import annotations

import lzma
import os
import posixpath
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from porter_image.build.context import BuildContext, Source
from porter_image.build.errors import BuildError
from porter_image.exec_user import scoped_path
from porter_image.layer.errors import LayerError


@dataclass(frozen=True)
class CopyOptions:
    owner: tuple[int, int] = (0, 0)
    chmod: int | None = None


def destination_is_folder(rootfs: Path, dest: str, many: bool) -> bool:
    return dest.endswith("/") or many or scoped_path(rootfs, dest).is_dir()


def make_folders(rootfs: Path, folder: str, owner: tuple[int, int]) -> Path:
    """Create `folder` (a path in the rootfs) and its missing parents, 0755 and `owner`."""
    current = "/"
    for part in [p for p in folder.split("/") if p]:
        current = posixpath.join(current, part)
        path = scoped_path(rootfs, current)
        if not path.is_dir():
            if os.path.lexists(path):
                raise BuildError(current, "exists and is not a folder")
            path.mkdir(mode=0o755)
            os.chown(path, *owner)
    return scoped_path(rootfs, folder)


def copy_sources(
    context: BuildContext,
    sources: list[Source],
    rootfs: Path,
    dest: str,
    options: CopyOptions,
    into_folder: bool,
) -> None:
    """Copy each source to `dest` (an absolute path in the rootfs)."""
    for source in sources:
        if source.is_dir or into_folder:
            name = posixpath.basename(source.rel) or source.path.name
            base = dest if source.is_dir else posixpath.join(dest, name)
        else:
            base = dest
        make_folders(rootfs, posixpath.dirname(base.rstrip("/")) or "/", options.owner)
        # the folders being filled (those the walk is inside), whose times are put back
        # once their contents are in: as deep as the tree, however many folders it has
        filling: list[tuple[str, Path, os.stat_result]] = []
        for rel, path, st in context.walk(source):
            if rel == "" and source.is_dir:
                if not scoped_path(rootfs, base).is_dir():
                    make_folders(rootfs, base, options.owner)
                continue
            while filling and not rel.startswith(filling[-1][0] + "/"):
                _put_times_back(*filling.pop()[1:])
            target = _entry_path(rootfs, posixpath.join(base, rel) if rel else base)
            _copy_entry(path, target, st, options)
            if stat.S_ISDIR(st.st_mode):
                filling.append((rel, target, st))
        while filling:
            _put_times_back(*filling.pop()[1:])


def _put_times_back(target: Path, st: os.stat_result) -> None:
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _entry_path(rootfs: Path, name: str) -> Path:
    """Where `name` lands: its folder resolved inside the rootfs, its last part not followed,
    so a copy replaces a symlink rather than what it points at."""
    name = name.rstrip("/")
    return scoped_path(rootfs, posixpath.dirname(name) or "/") / posixpath.basename(name)


def _copy_entry(path: Path, target: Path, st: os.stat_result, options: CopyOptions) -> None:
    mode = options.chmod if options.chmod is not None else stat.S_IMODE(st.st_mode)
    if os.path.lexists(target) and not (stat.S_ISDIR(st.st_mode) and target.is_dir()):
        if target.is_dir() and not target.is_symlink():
            raise BuildError(str(target), "cannot replace a folder with a file")
        os.unlink(target)
    if stat.S_ISDIR(st.st_mode):
        if target.is_symlink():
            return  # an image's symlink to a folder: copy into it, leave it as it is
        if not target.is_dir():
            target.mkdir()
    elif stat.S_ISREG(st.st_mode):
        shutil.copyfile(path, target, follow_symlinks=False)
    elif stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(path), target)
    elif stat.S_ISFIFO(st.st_mode):
        os.mkfifo(target)
    else:
        return  # sockets and devices are not copied, as with Docker
    os.chown(target, *options.owner, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(target, mode)
    _put_times_back(target, st)


def write_file(rootfs: Path, dest: str, data: BinaryIO, options: CopyOptions, mode: int) -> None:
    """A new file at `dest` (a path in the rootfs) holding what `data` streams (heredocs,
    downloads)."""
    make_folders(rootfs, posixpath.dirname(dest) or "/", options.owner)
    target = _entry_path(rootfs, dest)
    if target.is_dir() and not target.is_symlink():
        raise BuildError(dest, "cannot replace a folder with a file")
    if os.path.lexists(target):
        os.unlink(target)
    with open(target, "wb") as out:
        shutil.copyfileobj(data, out)
    os.chown(target, *options.owner)
    os.chmod(target, options.chmod if options.chmod is not None else mode)


def extract_archive(path: Path, rootfs: Path, dest: str, owner: tuple[int, int]) -> None:
    """Unpack a local tar into the folder `dest`, keeping the owners the tar names."""
    from porter_image.build.archive import apply_tar

    folder = make_folders(rootfs, dest, owner)
    try:
        with open(path, "rb") as src:
            apply_tar(src, folder)
    except (LayerError, OSError, EOFError, lzma.LZMAError) as exc:
        raise BuildError(str(path), f"cannot unpack: {exc}") from exc


def copy_with_parents(
    context: BuildContext,
    sources: list[tuple[str, Source]],
    rootfs: Path,
    dest: str,
    options: CopyOptions,
    unpack: bool = False,
) -> None:
    """`COPY --parents`: each (path below the pivot, source) lands at that path under the
    folder `dest`; the folders on the way that are not there yet are copied from the source's
    own folders (their modes and times, the copy's owner). With `unpack` (ADD), a local tar
    is unpacked into the folder it sits in."""
    from porter_image.build.archive import is_archive

    make_folders(rootfs, dest, options.owner)
    made: list[tuple[Path, os.stat_result]] = []
    for below, source in sources:
        archive = unpack and not context.scoped and is_archive(source.path)
        kept = below if source.is_dir else posixpath.dirname(below)
        parts = [p for p in kept.split("/") if p]
        base = source.rel[: len(source.rel) - len(below)].rstrip("/")  # the pivot folder
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            target = _entry_path(rootfs, posixpath.join(dest, folder))
            if os.path.lexists(target):
                continue
            path = context.path_of(posixpath.join(base, folder) if base else folder)
            st = os.stat(path)
            _copy_entry(path, target, st, options)
            made.append((target, st))
        if archive:
            extract_archive(source.path, rootfs, posixpath.join(dest, kept), options.owner)
        else:
            copy_sources(context, [source], rootfs, posixpath.join(dest, below), options, False)
    for target, st in reversed(made):  # after their contents changed them
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
