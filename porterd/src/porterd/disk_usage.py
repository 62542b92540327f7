"""How much a folder holds, as dockerd counts it (pkg/directory.Size): the sizes of the files,
links and other non-folders below it, each inode once (hard links are not counted twice).

One function for everything porterd sizes that way: a container's read-write layer (SizeRw,
what prune reclaims), a volume's UsageData.Size, a build cache entry.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def tree_size(root: Path) -> int:
    """The bytes below `root` (the file's own size when `root` is not a folder); 0 when it is
    not there. Entries that vanish or cannot be read while it walks are left out."""
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        return 0
    if not stat.S_ISDIR(info.st_mode):
        return info.st_size
    total, seen = 0, set()
    for folder, folders, files in os.walk(root):
        for name in [*folders, *files]:  # os.walk lists links to folders among the folders
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            if not stat.S_ISDIR(info.st_mode) and (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_size
    return total
