"""An overlay's upper folder as an OCI layer: overlayfs whiteouts become OCI whiteouts.

After a step ran on an overlay of its parent's snapshots, the upper folder holds exactly what
the step changed: new and changed files (copied up whole), a 0/0 character device for each
deleted path and the `trusted.overlay.opaque` xattr on a folder whose lower contents were
replaced. Only that folder is walked; the lower layers are never read or hashed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from porter_image.layer import tar_format as tf
from porter_image.layer.apply import OPAQUE as OPAQUE_MARKER
from porter_image.layer.apply import OVERLAY_OPAQUE, WHITEOUT
from porter_image.layer.compression import LayerSink
from porter_image.layer.options import LayerResult, TarOptions
from porter_image.layer.tar_writer import TarWriter
from porter_image.layer.tree_walk import walk

OVERLAY = "trusted.overlay."


def is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


class _UpperTarWriter(TarWriter):
    """Leaves overlayfs's own xattrs out, and notes whether the last folder was opaque."""

    opaque = False

    def entry_for(self, rel: str, path: str, st: os.stat_result) -> tf.TarEntry | None:
        entry = super().entry_for(rel, path, st)
        if entry is not None:
            self.opaque = entry.xattrs.get(OVERLAY_OPAQUE) == b"y"
            entry.xattrs = {
                key: value for key, value in entry.xattrs.items() if not key.startswith(OVERLAY)
            }
        return entry


def write_upper_layer(
    upper: Path,
    out: BinaryIO,
    compression: str = "gzip",
    options: TarOptions = TarOptions(),  # noqa: B008 - frozen, so a shared default is safe
) -> LayerResult:
    """The tar of `upper`'s changes, with `.wh.NAME` and `.wh..wh..opq` entries."""
    writer = _UpperTarWriter(LayerSink(out, compression), options)
    mtime_ns = (options.mtime or 0) * 1_000_000_000
    for rel, path, st in walk(upper):
        if is_whiteout(st):
            parent, _, name = rel.rpartition("/")
            whiteout = f"{parent}/{WHITEOUT}{name}" if parent else WHITEOUT + name
            writer.add_entry(tf.TarEntry(name=whiteout, mtime_ns=mtime_ns))
            continue
        writer.opaque = False
        writer.add(rel, path, st)
        if writer.opaque and stat.S_ISDIR(st.st_mode):
            writer.add_entry(tf.TarEntry(name=f"{rel}/{OPAQUE_MARKER}", mtime_ns=mtime_ns))
    return writer.close()
