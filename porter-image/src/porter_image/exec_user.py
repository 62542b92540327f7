"""Resolve an image's `Config.User` against the unpacked rootfs's /etc/passwd and /etc/group.

The rules are the image-spec's (conversion.md, `Config.User`) and, where it is silent, those
of runc's and umoci's user lookup (moby/sys/user `GetExecUser`), so that a bundle converted
here runs as the same user as one umoci converts:

- `USER` or `USER:GROUP`; each part a name or a number. An empty user means uid 0.
- A numeric uid is taken as is; if /etc/passwd has an entry for it, its gid and home apply.
- A name must be in /etc/passwd; a group name must be in /etc/group (or it is an error).
- Supplementary groups (`additionalGids`) come from /etc/group membership, only when the user
  was given by name (or not at all) and no group was given, as the image-spec asks.

The files are read from inside the rootfs: symlinks are followed as if the rootfs were `/`,
never out of it, and only regular files of sane size are read, because the image is untrusted.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from porter_specs.rootfs_path import SymlinkLoopError, scoped_join

from porter_image.errors import RuntimeConfigError

MAX_ID = (1 << 31) - 1
MAX_DB_SIZE = 16 << 20  # a larger /etc/passwd is an attack, not a user database
_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class ExecUser:
    """Who the container process runs as; `home` is "" when /etc/passwd does not say."""

    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    home: str = ""


@dataclass(frozen=True)
class _Entry:
    """One line of /etc/passwd (members empty) or /etc/group (home empty)."""

    name: str
    id: int
    gid: int = 0
    home: str = ""
    members: tuple[str, ...] = ()


def resolve_user(rootfs: Path, spec: str) -> ExecUser:
    """The uid, gid, supplementary gids and home of `spec` (Config.User) in `rootfs`."""
    user_arg, _, group_arg = spec.partition(":")
    group_arg = group_arg.partition(":")[0]
    passwd = _read_db(rootfs, "/etc/passwd", _passwd_entry)
    entry = _find(passwd, user_arg or "0")
    if entry is not None:
        user = ExecUser(entry.id, entry.gid, home=entry.home)
    elif _NUMBER.fullmatch(user_arg or "0"):
        user = ExecUser(_checked_id(user_arg or "0", spec), 0)
    else:
        who = f"user {user_arg!r}" if group_arg else "such user"
        raise RuntimeConfigError(_what(spec), f"no {who} in the rootfs's /etc/passwd")
    if group_arg:
        return ExecUser(user.uid, _group_id(rootfs, group_arg, spec), home=user.home)
    if entry is None or _NUMBER.fullmatch(user_arg):
        return user
    groups = _read_db(rootfs, "/etc/group", _group_entry)
    member_of = tuple(g.id for g in groups if entry.name in g.members)
    return ExecUser(user.uid, user.gid, member_of, user.home)


def _group_id(rootfs: Path, group_arg: str, spec: str) -> int:
    group = _find(_read_db(rootfs, "/etc/group", _group_entry), group_arg)
    if group is not None:
        return group.id
    if _NUMBER.fullmatch(group_arg):
        return _checked_id(group_arg, spec)
    raise RuntimeConfigError(_what(spec), f"no group {group_arg!r} in the rootfs's /etc/group")


def _what(spec: str) -> str:
    return f"image config User {spec!r}"


def _find(entries: list[_Entry], arg: str) -> _Entry | None:
    """The first entry whose id (for a number) or name matches, as moby's lookup does."""
    if _NUMBER.fullmatch(arg):
        wanted = int(arg)
        return next((e for e in entries if e.id == wanted), None)
    return next((e for e in entries if e.name == arg), None)


def _checked_id(text: str, spec: str) -> int:
    value = int(text)
    if value > MAX_ID:
        raise RuntimeConfigError(_what(spec), f"id {value} is out of range (0 to {MAX_ID})")
    return value


def _passwd_entry(fields: list[str]) -> _Entry | None:
    # name:password:uid:gid:gecos:home:shell
    if len(fields) < 4 or not _NUMBER.fullmatch(fields[2]) or not _NUMBER.fullmatch(fields[3]):
        return None
    home = fields[5] if len(fields) > 5 else ""
    return _Entry(fields[0], int(fields[2]), int(fields[3]), home)


def _group_entry(fields: list[str]) -> _Entry | None:
    # name:password:gid:member,member
    if len(fields) < 3 or not _NUMBER.fullmatch(fields[2]):
        return None
    members = tuple(m for m in fields[3].split(",") if m) if len(fields) > 3 else ()
    return _Entry(fields[0], int(fields[2]), members=members)


def _read_db(rootfs: Path, name: str, parse: Callable[[list[str]], _Entry | None]) -> list[_Entry]:
    """The parsed entries of /etc/passwd or /etc/group in `rootfs`; [] when it is absent."""
    text = read_rootfs_file(rootfs, name)
    entries = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        entry = parse(line.split(":"))
        if entry is not None:
            entries.append(entry)
    return entries


def read_rootfs_file(rootfs: Path, name: str) -> str | None:
    """A small regular file of the rootfs by its path inside it; None when there is none."""
    path = scoped_path(rootfs, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise RuntimeConfigError(f"rootfs {name}", exc.strerror or str(exc)) from exc
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RuntimeConfigError(f"rootfs {name}", "is not a regular file")
        if info.st_size > MAX_DB_SIZE:
            raise RuntimeConfigError(f"rootfs {name}", f"is larger than {MAX_DB_SIZE} bytes")
        return file.read(MAX_DB_SIZE).decode("utf-8", errors="replace")


def scoped_path(root: Path, name: str) -> Path:
    """`name` resolved inside `root` as if `root` were `/`: symlinks and `..` never leave it."""
    try:
        return Path(scoped_join(str(root), name))
    except SymlinkLoopError:
        raise RuntimeConfigError(f"rootfs {name}", "too many levels of symbolic links") from None
