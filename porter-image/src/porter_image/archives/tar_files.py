"""Shared pieces of the archive transports: a staging layout and atomic tar writing."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from porter_specs.models import Descriptor

from porter_image.distribution.manifests import RawManifest
from porter_image.endpoints.base import BlobOpener, BlobOrigin, ByteCounter
from porter_image.endpoints.layout import LayoutDestination, LayoutSource
from porter_image.layout.atomic import atomic_writer
from porter_image.transport import LayoutName

STAGING_TAG = "latest"


class UnpackedSource(LayoutSource):
    """An archive read as a layout that `fill(folder)` makes in a temp folder (removed on
    close), in `folder/subfolder`; `fill` returns the tag to read, or None for the layout's
    only image."""

    def __init__(self, fill: Callable[[Path], str | None], subfolder: str = "") -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="porter-archive-"))
        try:
            tag = fill(self.folder)
            super().__init__(LayoutName(self.folder / subfolder, tag))
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class StagingDestination:
    """A destination that stores everything in a temp layout and, on commit, writes an
    archive from it (`write_archive(layout_dir, manifest, target)`), renamed into place."""

    def __init__(
        self,
        target: Path,
        write_archive: Callable[[Path, RawManifest, BinaryIO], None],
        tag: str | None = STAGING_TAG,
    ) -> None:
        self.target = Path(target)
        self.write_archive = write_archive
        parent = self.target.parent if str(self.target.parent) else Path(".")
        self.staging = Path(tempfile.mkdtemp(prefix=".porter-archive-", dir=parent))
        self.layout = LayoutDestination(LayoutName(self.staging / "layout", tag))

    def has_blob(self, descriptor: Descriptor) -> bool:
        return self.layout.has_blob(descriptor)

    def mount_blob(self, descriptor: Descriptor, origin: BlobOrigin) -> bool:
        return False

    def put_blob(self, descriptor: Descriptor, source: BlobOpener, progress: ByteCounter) -> None:
        self.layout.put_blob(descriptor, source, progress)

    def put_manifest(self, manifest: RawManifest) -> None:
        self.layout.put_manifest(manifest)

    def add_referrer(self, manifest: RawManifest) -> None:
        self.layout.add_referrer(manifest)

    def commit(self, manifest: RawManifest) -> None:
        self.layout.commit(manifest)
        with atomic_writer(self.target) as out:
            self.write_archive(self.staging / "layout", manifest, out)

    def close(self, failed: bool) -> None:
        try:
            self.layout.close(failed)
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)


def add_file(tar: tarfile.TarFile, name: str, path: Path) -> None:
    """A regular file with fixed owner and mtime (archives of the same image are the same)."""
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mode, info.mtime = 0o644, 0
    with open(path, "rb") as data:
        tar.addfile(info, data)
