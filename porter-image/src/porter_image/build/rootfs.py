"""The root filesystem of one build step: an overlay of the parent's snapshots and an upper.

    with StepRootfs(workspace, snapshots, lowerdirs) as step:
        ...change step.rootfs...          # COPY writes into it, RUN's container runs on it
        step.unmount()
        write_upper_layer(step.upper, out)

Leaving the block unmounts (lazily, if something still holds the mount) and removes the
step's folder, whether the step succeeded or not.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from porter_image.build.remove_tree import remove_tree
from porter_image.snapshots import SnapshotError, mount_overlay, unmount


class StepRootfs:
    def __init__(self, workspace: Path, lowerdirs: Sequence[Path]) -> None:
        self.folder = workspace / f"step-{uuid.uuid4().hex[:12]}"
        self.rootfs = self.folder / "rootfs"
        self.upper = self.folder / "upper"
        self.work = self.folder / "work"
        self.lowerdirs = tuple(lowerdirs)
        self.mounted = False

    def __enter__(self) -> StepRootfs:
        self.rootfs.mkdir(parents=True)
        try:
            mount_overlay(self.lowerdirs, self.upper, self.work, self.rootfs)
        except BaseException:
            remove_tree(self.folder)
            raise
        self.mounted = True
        return self

    def unmount(self) -> None:
        if self.mounted:
            try:
                unmount(self.rootfs)
            except SnapshotError:
                unmount(self.rootfs, lazy=True)
            self.mounted = False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(SnapshotError):
            self.unmount()
        if not self.mounted:
            remove_tree(self.folder)
