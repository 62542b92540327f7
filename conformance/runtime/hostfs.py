"""Host-side views the suite needs: mount table, cgroup hierarchies, safe removal.

Removal is careful on purpose: a runtime bug could leave a bind mount of
something precious inside a bundle, so trees are unmounted first and never
walked across a file-system boundary.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MNT_DETACH = 2
PR_SET_CHILD_SUBREAPER = 36
CLEANUP_MARKER = "porter-conformance"

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class MountEntry:
    """One line of /proc/<pid>/mountinfo."""

    mount_point: str
    root: str
    options: frozenset[str]
    optional: tuple[str, ...]
    fstype: str
    source: str
    super_options: frozenset[str]


def _unescape(field: str) -> str:
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")


def parse_mountinfo(text: str) -> list[MountEntry]:
    entries = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 10:
            continue
        dash = fields.index("-")
        entries.append(
            MountEntry(
                mount_point=_unescape(fields[4]),
                root=_unescape(fields[3]),
                options=frozenset(fields[5].split(",")),
                optional=tuple(fields[6:dash]),
                fstype=fields[dash + 1],
                source=fields[dash + 2],
                super_options=frozenset(fields[dash + 3].split(",")),
            )
        )
    return entries


def find_mount(entries: list[MountEntry], mount_point: str) -> MountEntry | None:
    """The last (topmost) mount at `mount_point`."""
    found = [entry for entry in entries if entry.mount_point == mount_point]
    return found[-1] if found else None


def become_subreaper() -> None:
    """Container processes orphaned by `create` come back to us, so we can reap them.

    PID 1 on this kind of machine does not reap orphans; without this every
    container would leave a zombie behind.
    """
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap(pid: int) -> None:
    """Collects `pid` if it is an exited child of ours; never blocks."""
    if pid <= 0:
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def fate(pid: int) -> str:
    """What became of a container's init, for a failure message: running, or how it ended.

    Orphaned inits are our children (we are the subreaper), so waitid tells an exit status
    from a signal; WNOWAIT leaves the zombie for cleanup to reap.
    """
    if pid <= 0:
        return "init pid unknown"
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return f"init {pid}: not our child (gone, or reaped already)"
    if info is None:
        return f"init {pid}: still running"
    if info.si_code == os.CLD_EXITED:
        return f"init {pid}: exited with status {info.si_status}"
    return f"init {pid}: killed by signal {info.si_status} ({signal.Signals(info.si_status).name})"


def kill_and_reap(pid: int) -> None:
    """Last resort for a container process the runtime failed to delete.

    Only a child of ours (orphans come to us, the subreaper) is killed: its pid
    cannot have been reused while it waits for us to reap it.
    """
    if pid <= 0 or _parent_of(pid) != os.getpid():
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            return
        time.sleep(0.01)


def _parent_of(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def cgroup_mounts() -> dict[str, Path]:
    """Controller name ("memory", ...; "" for cgroup v2) -> its mount point on the host."""
    mounts: dict[str, Path] = {}
    for entry in parse_mountinfo(Path("/proc/self/mountinfo").read_text()):
        if entry.fstype == "cgroup2":
            mounts.setdefault("", Path(entry.mount_point))
        elif entry.fstype == "cgroup":
            for option in entry.super_options:
                name = option.removeprefix("name=")
                if option not in ("rw", "ro") and not option.startswith("release_agent"):
                    mounts.setdefault(name, Path(entry.mount_point))
    return mounts


def process_cgroups(pid: int | str) -> dict[str, str]:
    """Controller -> cgroup path of a process, from /proc/<pid>/cgroup."""
    paths: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller.removeprefix("name=")] = path
    return paths


def cgroup_dir(pid: int, controller: str) -> Path:
    """The host directory of `pid`'s cgroup for `controller` (its v2 cgroup if v1 lacks it)."""
    mounts = cgroup_mounts()
    paths = process_cgroups(pid)
    key = controller if controller in mounts and controller in paths else ""
    assert key in mounts and key in paths, f"no {controller} hierarchy for pid {pid}"
    return mounts[key] / paths[key].lstrip("/")


def read_cgroup(pid: int, controller: str, name: str) -> str:
    """One cgroup file of `pid`'s `controller` cgroup, read on the host, stripped."""
    return (cgroup_dir(pid, controller) / name).read_text().strip()


def remove_cgroup(relative: str) -> None:
    """Removes our own leftover cgroup (and kills what is still in it) in every hierarchy."""
    if CLEANUP_MARKER not in relative:
        return
    for mount in set(cgroup_mounts().values()):
        directory = mount / relative.lstrip("/")
        if not directory.is_dir():
            continue
        for leaf in sorted(directory.glob("**/"), key=lambda p: len(p.parts), reverse=True):
            _kill_members(leaf)
            for _ in range(50):
                try:
                    leaf.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _kill_members(directory: Path) -> None:
    try:
        members = (directory / "cgroup.procs").read_text().split()
    except OSError:
        return
    for pid in members:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
        reap(int(pid))


def unmount_below(path: Path) -> None:
    """Detaches every mount at or below `path` in our mount namespace, deepest first."""
    prefix = str(path.resolve())
    points = [
        entry.mount_point
        for entry in parse_mountinfo(Path("/proc/self/mountinfo").read_text())
        if entry.mount_point == prefix or entry.mount_point.startswith(prefix + "/")
    ]
    for point in sorted(points, key=len, reverse=True):
        if _libc.umount2(point.encode(), MNT_DETACH) != 0:
            code = ctypes.get_errno()
            if code not in (errno.EINVAL, errno.ENOENT):
                raise OSError(code, f"cannot unmount {point}: {os.strerror(code)}")


def remove_tree(path: Path) -> None:
    """rm -rf that unmounts first and never crosses into another file system."""
    if not path.exists():
        return
    unmount_below(path)
    _remove_contents(path, path.lstat().st_dev)
    path.rmdir()


def _remove_contents(directory: Path | str, device: int) -> None:
    with os.scandir(directory) as entries:
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.path)
            elif entry.stat(follow_symlinks=False).st_dev == device:
                _remove_contents(entry.path, device)
                os.rmdir(entry.path)
