"""The build context: the folder COPY and ADD read from, seen through .dockerignore.

Sources are context-relative paths or filepath.Match patterns; one that leaves the context
(`../x`, or a symlink whose target is outside) is refused. Trees are walked lazily, so a
context of a million files streams through a copy or a digest without being listed whole.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from porter_image.build.errors import BuildError
from porter_image.build.file_digests import FileDigests, hash_file
from porter_image.dockerfile.errors import IgnorePatternError
from porter_image.dockerfile.ignore import IgnoreRules, compile_glob
from porter_image.layer.sorted_names import sorted_names
from porter_image.layer.tree_walk import KINDS

_MAGIC = re.compile(r"[*?\[\\]")


@dataclass(frozen=True)
class Source:
    """One resolved source: its context-relative path ("" is the root) and where it is."""

    rel: str
    path: Path

    @property
    def is_dir(self) -> bool:
        return self.path.is_dir()


class BuildContext:
    def __init__(
        self,
        root: Path,
        ignore: IgnoreRules | None = None,
        scoped: bool = False,
        excludes: IgnoreRules | None = None,
        temporary: bool = False,
    ) -> None:
        """With `scoped`, `root` is an image's rootfs (`COPY --from`): symlinks resolve inside
        it, as if it were `/`, rather than being refused when they point elsewhere.
        `temporary` says that `root` is removed after the build (a tar unpacked), so that
        nothing is remembered about its files for builds to come."""
        self.root = Path(root).resolve()
        self.ignore = ignore or IgnoreRules()
        self.scoped = scoped
        self.temporary = temporary
        # COPY --exclude: patterns over paths below each source (and a source's own path)
        self.excludes = excludes or IgnoreRules()

    @classmethod
    def from_tar(cls, stream: BinaryIO, folder: Path) -> BuildContext:
        """A context sent as a tar (`-`), extracted as it streams into `folder`."""
        from porter_image.build.archive import apply_tar
        from porter_image.layer.errors import LayerError

        folder.mkdir(parents=True, exist_ok=True)
        try:
            apply_tar(stream, folder)
        except (LayerError, OSError, EOFError) as exc:
            raise BuildError("build context", f"cannot read the tar on stdin: {exc}") from exc
        return cls(folder, temporary=True)

    def resolve(self, pattern: str, where: str) -> list[Source]:
        """The sources a COPY/ADD argument names; BuildError when none or outside."""
        clean = posixpath.normpath(pattern.replace("\\", "/") if os.sep != "/" else pattern)
        if clean == ".." or clean.startswith("../"):
            raise BuildError(where, f"{pattern}: forbidden path outside the build context")
        clean = clean.lstrip("/")
        clean = "" if clean == "." else clean
        try:
            rels = self._glob(clean) if _MAGIC.search(clean) else [clean]
        except IgnorePatternError as exc:
            raise BuildError(where, str(exc)) from exc
        sources = []
        for rel in rels:
            path = self.root / rel if rel else self.root
            if not os.path.lexists(path) or (rel and self._left_out(rel, rel)):
                continue
            if self.scoped:
                sources.append(Source(rel, self.path_of(rel)))
                continue
            real = Path(os.path.realpath(path))
            if real != self.root and self.root not in real.parents:
                raise BuildError(where, f"{pattern}: a symlink leads outside the build context")
            sources.append(Source(rel, real))
        if not sources:
            raise BuildError(where, f"{pattern}: not found in the build context")
        return sources

    def path_of(self, rel: str) -> Path:
        """Where a context-relative path is (resolved inside the rootfs when scoped)."""
        if not self.scoped:
            return self.root / rel
        from porter_image.exec_user import scoped_path

        return scoped_path(self.root, rel)

    def _left_out(self, ctx_rel: str, below: str) -> bool:
        return self.ignore.ignored(ctx_rel) or bool(
            self.excludes.patterns and self.excludes.ignored(below)
        )

    def _glob(self, pattern: str) -> list[str]:
        found = [""]
        for segment in pattern.split("/"):
            regex = compile_glob(segment) if _MAGIC.search(segment) else None
            following = []
            for base in found:
                folder = self.root / base if base else self.root
                if regex is None:
                    following.append(posixpath.join(base, segment) if base else segment)
                    continue
                if not folder.is_dir() or folder.is_symlink():
                    continue
                for name in sorted(os.listdir(folder)):
                    if regex.match(name):
                        following.append(posixpath.join(base, name) if base else name)
            found = following
        return found

    def walk(self, source: Source) -> Iterator[tuple[str, Path, os.stat_result]]:
        """(path below the source, host path, lstat) of the source and everything below it
        that .dockerignore keeps, a folder before what it holds; the source itself comes
        first with the path ""."""
        yield "", source.path, os.stat(source.path)
        if not source.is_dir:
            return
        # depth first, each folder's names in byte order and read as a stream: one iterator
        # per level, never a whole tree (nor a whole huge folder) in memory
        stack = [("", source.path, sorted_names(source.path))]
        while stack:
            below, folder, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                continue
            rel = posixpath.join(below, name) if below else name
            ctx_rel = posixpath.join(source.rel, rel) if source.rel else rel
            path = folder / name
            st = os.lstat(path)
            ignored = self._left_out(ctx_rel, rel)
            if ignored and not (stat.S_ISDIR(st.st_mode) and self.ignore.may_hold_kept(ctx_rel)):
                continue
            if not ignored:
                yield rel, path, st
            if stat.S_ISDIR(st.st_mode):
                stack.append((rel, path, sorted_names(path)))

    def digest(self, sources: list[Source], files: FileDigests | None = None) -> str:
        """A content digest of the sources: paths, types, modes, owners, bytes, link targets;
        not mtimes (Docker's cache rule). With `files`, a file's bytes are hashed again only
        when its inode changed since they were last hashed."""
        h = hashlib.sha256()
        for source in sources:
            for rel, path, st in self.walk(source):
                kind = KINDS.get(stat.S_IFMT(st.st_mode), "other")
                mode = format(stat.S_IMODE(st.st_mode), "04o")
                h.update(f"{source.rel}\0{rel}\0{kind}\0{mode}\0{st.st_uid}:{st.st_gid}\0".encode())
                if stat.S_ISREG(st.st_mode):
                    h.update(files.digest(path, st) if files else hash_file(path))
                elif stat.S_ISLNK(st.st_mode):
                    h.update(os.fsencode(os.readlink(path)))
                h.update(b"\n")
        return "sha256:" + h.hexdigest()
