"""A container's files and processes: `top`, `diff` (changes of the upper layer), `export`
and `cp` (archive GET, HEAD and PUT).

A stopped container's rootfs is mounted for the time of the request. Archives are read with
the host's tar below a parent folder resolved inside the rootfs (symlinks never leave it);
archives are unpacked by a child that has chrooted into the rootfs first, so that a symlink
in the container (or in the archive) cannot send a file outside of it. When the container
has volumes or bind mounts, `cp` goes through a child that sees them where the container
does (`porterd.containers.archive_view`), so a copy into a volume's path lands in the volume.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from porter_image.errors import RuntimeConfigError
from porter_image.exec_user import scoped_path
from porter_image.snapshots import mount_overlay
from porterd.errors import Conflict, Forbidden, InvalidParameter, NotFound

if TYPE_CHECKING:
    from porterd.containers.record import Container
    from porterd.containers.service import ContainerService

CHUNK = 64 * 1024
KIND_MODIFIED, KIND_ADDED, KIND_DELETED = 0, 1, 2
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
VIEW_MODULE = "porterd.containers.archive_view"
VIEW_NOT_FOUND, VIEW_INVALID = 3, 4  # archive_view's exit codes for a bad path
VIEW_READONLY = "ro"  # archive_view's last argument for a read-only rootfs


def top(service: ContainerService, container: Container, ps_args: str) -> dict[str, Any]:
    if not container.state.status.is_running():
        raise Conflict(f"Container {container.id} is not running")
    pids = set(service.runtime_of(container).pids(container.id))
    result = subprocess.run(["ps", *ps_args.split()], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InvalidParameter(f"ps {ps_args}: {result.stderr.strip() or 'failed'}")
    lines = result.stdout.splitlines()
    titles = lines[0].split()
    if "PID" not in titles:
        raise InvalidParameter(f"Couldn't find PID field in ps output: {ps_args}")
    column = titles.index("PID")
    processes = []
    for line in lines[1:]:
        fields = line.split(None, len(titles) - 1)
        if len(fields) > column and fields[column].isdigit() and int(fields[column]) in pids:
            processes.append(fields)
    return {"Titles": titles, "Processes": processes}


def changes(service: ContainerService, container: Container) -> list[dict[str, Any]]:
    """The upper layer against the image, as `docker diff` lists it."""
    upper = service.paths(container).upper
    lowers = [Path(p) for p in container.lowerdirs]
    found = []
    for folder, dirs, names in os.walk(upper):
        for name in sorted(dirs + names):
            path = Path(folder) / name
            inside = "/" + str(path.relative_to(upper))
            info = os.lstat(path)
            if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                kind = KIND_DELETED
            elif any(os.path.lexists(lower / inside.lstrip("/")) for lower in lowers):
                kind = KIND_MODIFIED
            else:
                kind = KIND_ADDED
            found.append({"Path": inside, "Kind": kind})
    return sorted(found, key=lambda change: change["Path"])


@contextmanager
def mounted_rootfs(service: ContainerService, container: Container) -> Iterator[Path]:
    """The container's rootfs, mounted for the duration when the container is stopped."""
    paths = service.paths(container)
    mounted_here = False
    if not os.path.ismount(paths.rootfs):
        paths.rootfs.mkdir(parents=True, exist_ok=True)
        mount_overlay([Path(p) for p in container.lowerdirs], paths.upper, paths.work, paths.rootfs)
        mounted_here = True
    try:
        yield paths.rootfs
    finally:
        if mounted_here and not container.state.status.is_running():
            service.release_rootfs(paths)


def export(service: ContainerService, container: Container) -> Iterator[bytes]:
    with mounted_rootfs(service, container) as rootfs:
        yield from _stream(tar_command(rootfs, rootfs))


def tar_command(rootfs: Path, target: Path) -> list[str]:
    """The host's tar writing `target` (the whole rootfs, or one entry of it) to stdout."""
    if target == rootfs:
        where = ["-C", str(rootfs), "."]
    else:
        where = ["-C", str(target.parent), target.name]
    return ["tar", "--numeric-owner", "--xattrs", "-cf", "-", *where]


def _stream(command: list[str]) -> Iterator[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    try:
        while chunk := process.stdout.read(CHUNK):
            yield chunk
    finally:
        process.stdout.close()
        if process.poll() is None:
            process.kill()
        process.wait()


def resolve_in_rootfs(rootfs: Path, path: str) -> Path:
    """`path` inside the rootfs: its parent resolved as if the rootfs were `/` (symlinks and
    `..` never leave it), its last part kept as is (a symlink is archived, not followed)."""
    path = os.path.normpath("/" + path)  # "/.." is "/": a last part of ".." cannot climb out
    try:
        parent = scoped_path(rootfs, os.path.dirname(path.rstrip("/")) or "/")
    except RuntimeConfigError as error:
        raise InvalidParameter(f"{path}: {error}") from error
    name = os.path.basename(path.rstrip("/"))
    return parent / name if name and name != "." else parent


def stat_header(path: Path, name: str) -> str:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {name} in container") from None
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode):
        mode |= GO_MODE_DIR
    link = ""
    if stat.S_ISLNK(info.st_mode):
        mode |= GO_MODE_SYMLINK
        link = os.readlink(path)
    document = {
        "name": os.path.basename(name.rstrip("/")) or "/",
        "size": info.st_size,
        "mode": mode,
        "mtime": _go_time(info.st_mtime),
        "linkTarget": link,
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


def _go_time(seconds: float) -> str:
    from porterd.clock import rfc3339

    return rfc3339(int(seconds * 1_000_000_000))


def bound_points(container: Container) -> list[dict[str, Any]]:
    """The container's volumes and bind mounts: what `cp` must see through."""
    return [p for p in container.mounts if p["Type"] in ("volume", "bind") and p.get("Source")]


def view_command(
    operation: str,
    rootfs: Path,
    path: str,
    points: list[dict[str, Any]],
    readonly_root: bool = False,
) -> list[str]:
    """The archive_view child for `operation`, in a mount namespace of its own when there are
    mount points to bind (or the rootfs to make read-only)."""
    child = [sys.executable, "-I", "-m", VIEW_MODULE, operation, str(rootfs), path]
    if not points and not readonly_root:
        return [*child, "[]"]
    unshare = ["unshare", "--mount", "--propagation", "private"]
    return [*unshare, *child, json.dumps(points), *([VIEW_READONLY] if readonly_root else [])]


def _view_failed(path: str, returncode: int, stderr: bytes) -> Exception:
    lines = stderr.decode(errors="replace").strip().splitlines()
    message = lines[-1] if lines else "failed"
    if returncode == VIEW_NOT_FOUND:
        return NotFound(message)
    if returncode == VIEW_INVALID:
        return InvalidParameter(message)
    return InvalidParameter(f"{path}: {message}")


def stat_path(service: ContainerService, container: Container, path: str) -> str:
    with mounted_rootfs(service, container) as rootfs:
        points = bound_points(container)
        if not points:
            return stat_header(resolve_in_rootfs(rootfs, path), path)
        result = subprocess.run(
            view_command("stat", rootfs, path, points), capture_output=True, check=False
        )
        if result.returncode != 0:
            raise _view_failed(path, result.returncode, result.stderr)
        return result.stdout.decode()


def archive(
    service: ContainerService, container: Container, path: str
) -> tuple[str, Iterator[bytes]]:
    header = stat_path(service, container, path)
    points = bound_points(container)

    def stream() -> Iterator[bytes]:
        with mounted_rootfs(service, container) as rootfs:
            if points:
                yield from _stream(view_command("tar", rootfs, path, points))
            else:
                yield from _stream(tar_command(rootfs, resolve_in_rootfs(rootfs, path)))

    return header, stream()


def extraction_point(rootfs: Path, path: str) -> str:
    """`path` as the folder (inside the rootfs) an archive is unpacked into."""
    target = resolve_in_rootfs(rootfs, path)
    if not target.is_dir():
        if not target.exists():
            raise NotFound(f"Could not find the file {path} in container")
        raise InvalidParameter(f"extraction point is not a directory: {path}")
    return "/" + str(target.relative_to(rootfs)) if target != rootfs else "/"


def extract(
    service: ContainerService,
    container: Container,
    path: str,
    data: IO[bytes],
) -> None:
    points = bound_points(container)
    readonly_root = bool(container.host_config.get("ReadonlyRootfs"))
    if readonly_root and not any(point["RW"] for point in points):
        raise Forbidden("container rootfs is marked read-only")
    with mounted_rootfs(service, container) as rootfs:
        process = subprocess.Popen(
            view_command("extract", rootfs, path, points, readonly_root),
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdin is not None and process.stderr is not None
        try:
            while chunk := data.read(CHUNK):
                process.stdin.write(chunk)
            process.stdin.close()
        except BrokenPipeError:
            pass
        error = process.stderr.read()
        returncode = process.wait()
        if returncode in (VIEW_NOT_FOUND, VIEW_INVALID):
            raise _view_failed(path, returncode, error)
        if returncode != 0:
            raise _view_failed(f"extracting into {path}", returncode, error)
