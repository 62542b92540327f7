"""Layer snapshots: each layer unpacked once, by its chain id, into a read-only folder.

A container's (or a build step's) root filesystem is an overlay mount of an image's snapshots,
topmost first, plus an upper and a work folder of its own. Snapshots keep whiteouts as overlayfs
reads them (0/0 character devices, the trusted.overlay.opaque xattr), so the mount shows exactly
what applying the layers in order would have made.

    store = SnapshotStore(data_root / "snapshots")
    snapshots = store.prepare(layout, image)          # unpacks the layers not there yet
    mount_overlay(store.lowerdirs(image), upper, work, target)
    ...
    unmount(target)
"""

from __future__ import annotations

from porter_image.snapshots.chain import chain_ids
from porter_image.snapshots.errors import SnapshotError
from porter_image.snapshots.overlay import mount_overlay, unmount
from porter_image.snapshots.store import Snapshot, SnapshotStore

__all__ = [
    "Snapshot",
    "SnapshotError",
    "SnapshotStore",
    "chain_ids",
    "mount_overlay",
    "unmount",
]
