"""Namespaces of linux.namespaces: which to create, which to join, in what order."""

from __future__ import annotations

import os

from porter_runtime import syscalls as sc
from porter_runtime.errors import ConfigError

FLAGS = {
    "pid": sc.CLONE_NEWPID,
    "network": sc.CLONE_NEWNET,
    "mount": sc.CLONE_NEWNS,
    "ipc": sc.CLONE_NEWIPC,
    "uts": sc.CLONE_NEWUTS,
    "user": sc.CLONE_NEWUSER,
    "cgroup": sc.CLONE_NEWCGROUP,
    "time": sc.CLONE_NEWTIME,
}
# name of each type under /proc/<pid>/ns/
PROC_NAMES = {
    "pid": "pid",
    "network": "net",
    "mount": "mnt",
    "ipc": "ipc",
    "uts": "uts",
    "user": "user",
    "cgroup": "cgroup",
    "time": "time",
}
# joining order: user first (it grants the rights to join the rest), mount last
JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount")


class NamespacePlan:
    """New namespaces as one unshare(2) flag set, joined ones as (type, path) in order."""

    __slots__ = ("join", "new", "types")

    def __init__(self, entries: list[dict]) -> None:
        seen: dict[str, str] = {}
        for entry in entries:
            kind = entry.get("type")
            if kind not in FLAGS:
                raise ConfigError(
                    f"namespace {kind!r}", f"unknown type (known: {', '.join(sorted(FLAGS))})"
                )
            if kind in seen:
                raise ConfigError(f"namespace {kind!r}", "listed more than once")
            seen[kind] = entry.get("path") or ""
        self.types = frozenset(seen)
        self.new = 0
        for kind, path in seen.items():
            if not path:
                self.new |= FLAGS[kind]
        self.join = [(k, seen[k]) for k in JOIN_ORDER if seen.get(k)]

    def has_new(self, kind: str) -> bool:
        return bool(self.new & FLAGS[kind])

    def check_paths(self) -> None:
        """Every path to join must exist (checked before anything is created)."""
        for kind, path in self.join:
            if not os.path.exists(path):
                raise ConfigError(f"namespace {kind} path {path}", "does not exist")


def open_join_fds(join: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """Open every namespace file first: paths may vanish once the mount namespace changes."""
    fds = []
    for kind, path in join:
        try:
            fds.append((os.open(path, os.O_RDONLY | os.O_CLOEXEC), FLAGS[kind]))
        except OSError as exc:
            raise ConfigError(f"namespace {kind} path {path}", exc.strerror or "") from exc
    return fds


def join_all(calls: object, fds: list[tuple[int, int]]) -> None:
    for fd, flag in fds:
        calls.setns(fd, flag)
        os.close(fd)


def id_map_text(mappings: list[dict]) -> str:
    """uidMappings/gidMappings as the lines /proc/<pid>/uid_map takes."""
    return "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in mappings or [])
