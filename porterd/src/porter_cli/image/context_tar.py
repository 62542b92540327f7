"""The build context as docker's CLI sends it: a tar of the folder minus what .dockerignore
leaves out, streamed in chunks (each file read piece by piece, never whole), owners 0:0.

The Dockerfile and .dockerignore are always sent, even when .dockerignore names them (the
daemon needs the one and keeps the other from COPY). A Dockerfile from outside the context
(or from stdin) travels in the tar as `.dockerfile.<random>`, as docker's CLI sends it.
"""

from __future__ import annotations

import os
import secrets
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from porter_cli.errors import CliError

if TYPE_CHECKING:
    from porter_image.dockerfile.ignore import IgnoreRules

CHUNK = 1 << 16
BLOCK = tarfile.BLOCKSIZE
ALWAYS_SENT = (".dockerignore",)
COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd")


def is_tar(head: bytes) -> bool:
    """Whether the first bytes of stdin's context are an archive (else they are a Dockerfile)."""
    if head.startswith(COMPRESSED_MAGIC):
        return True
    return len(head) >= 263 and head[257:262] == b"ustar"


def ignore_rules(root: Path, dockerfile: Path | None) -> IgnoreRules:
    """The context's .dockerignore (porter_image's matcher, imported only by `porter build`)."""
    from porter_image.dockerfile.errors import IgnorePatternError
    from porter_image.dockerfile.ignore import IgnoreRules

    try:
        return IgnoreRules.for_context(root, dockerfile)
    except IgnorePatternError as exc:
        raise CliError(f"error checking context: .dockerignore: {exc}") from exc


def dockerfile_name() -> str:
    return f".dockerfile.{secrets.token_hex(10)}"


def context_chunks(
    root: Path, rules: IgnoreRules, kept: tuple[str, ...], extra: tuple[str, bytes] | None
) -> Iterator[bytes]:
    """The tar of `root` minus what `rules` ignore (except `kept` and .dockerignore), plus
    `extra` (a name and the bytes of a Dockerfile from elsewhere), in chunks."""
    always = set(kept) | set(ALWAYS_SENT)
    for relative, path in _walk(root, rules, always):
        yield from _member(path, relative)
    if extra is not None:
        yield _bytes_member(*extra)
    yield b"\0" * (2 * BLOCK)


def dockerfile_only(name: str, data: bytes) -> Iterator[bytes]:
    """A context of nothing but a Dockerfile (`porter build - < Dockerfile`)."""
    yield _bytes_member(name, data)
    yield b"\0" * (2 * BLOCK)


def _bytes_member(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    return info.tobuf(tarfile.PAX_FORMAT) + data + _padding(len(data))


def _walk(root: Path, rules: IgnoreRules, always: set[str]) -> Iterator[tuple[str, Path]]:
    def failed(error: OSError) -> None:
        raise CliError(f"error checking context: {error}")

    for folder, dirs, files in os.walk(root, onerror=failed):
        base = os.path.relpath(folder, root)
        base = "" if base == "." else base.replace(os.sep, "/") + "/"
        if base:
            yield base.rstrip("/"), Path(folder)
        links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]  # not walked
        for name in sorted([*files, *links]):
            relative = base + name
            if relative in always or not rules.ignored(relative):
                yield relative, Path(folder) / name
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in links and (not rules.ignored(base + d) or rules.may_hold_kept(base + d))
        )


def _member(path: Path, name: str) -> Iterator[bytes]:
    try:
        info = _tarinfo(path, name)
        if not info.isreg():
            yield info.tobuf(tarfile.PAX_FORMAT)
            return
        with open(path, "rb") as src:
            yield info.tobuf(tarfile.PAX_FORMAT)
            left = info.size
            while left > 0:
                chunk = src.read(min(CHUNK, left)) or b"\0" * min(CHUNK, left)  # file shrank
                left -= len(chunk)
                yield chunk
    except OSError as exc:
        raise CliError(f"error checking context: {name}: {exc.strerror or exc}") from exc
    yield _padding(info.size)


def _tarinfo(path: Path, name: str) -> tarfile.TarInfo:
    st = os.lstat(path)
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = int(st.st_mtime)
    info.uid = info.gid = 0
    if stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(st.st_mode):
        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
    elif stat.S_ISREG(st.st_mode):
        info.size = st.st_size
    else:
        raise CliError(f"error checking context: {name}: not a file, folder or symlink")
    return info


def _padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)
