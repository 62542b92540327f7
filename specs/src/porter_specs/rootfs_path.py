"""A path inside a container's root filesystem, resolved as the container will see it.

The runtime-spec places mount destinations, and the image-spec's conversion finds /etc/passwd,
relative to the rootfs. Both may run through symlinks the image controls; following them
with the host's view could reach host files. `scoped_join` resolves component by component,
treating every symlink target as relative to the rootfs and clamping `..` at its top (the
rule of filepath-securejoin, which runc uses). It only computes a path: callers that must
also survive a component being swapped afterwards walk it again with O_NOFOLLOW.
"""

from __future__ import annotations

import os
import stat

from porter_specs.errors import PorterError

MAX_SYMLINKS = 255  # filepath-securejoin's limit


class SymlinkLoopError(PorterError):
    """Resolving a path met more symlinks than MAX_SYMLINKS (a loop, in practice)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: too many levels of symbolic links")
        self.path = path


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


def scoped_join(root: str, unsafe: str) -> str:
    """`root` joined with `unsafe`, every symlink resolved as if `root` were `/`."""
    prefix = root.rstrip("/")
    resolved: list[str] = []
    remaining = _parts(unsafe)
    links = 0
    while remaining:
        part = remaining.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = prefix + "/" + "/".join([*resolved, part])
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            resolved.append(part)
            continue
        if not stat.S_ISLNK(st.st_mode):
            resolved.append(part)
            continue
        links += 1
        if links > MAX_SYMLINKS:
            raise SymlinkLoopError(unsafe)
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        remaining = _parts(target) + remaining
    return prefix + "/" + "/".join(resolved) if resolved else prefix or "/"
