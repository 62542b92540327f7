"""`oci-archive:FILE[:TAG]`: a tar holding an OCI image layout (as skopeo and buildah write)."""

from __future__ import annotations

import re
import shutil
import tarfile
from pathlib import Path
from typing import BinaryIO

from porter_image.archives.tar_files import StagingDestination, UnpackedSource, add_file
from porter_image.distribution.manifests import RawManifest
from porter_image.errors import ImageRefError
from porter_image.transport import OciArchiveName

# The only members read: the layout's own files, each a regular file.
_LAYOUT_MEMBER = re.compile(r"(?:\./)?(oci-layout|index\.json|blobs/[a-z0-9]+/[a-f0-9]{32,128})")


def oci_archive_source(name: OciArchiveName) -> UnpackedSource:
    """The archive's layout files unpacked to a temp folder and read as a layout."""

    def fill(folder: Path) -> str | None:
        _unpack_layout(name, folder)
        return name.tag

    return UnpackedSource(fill)


def _unpack_layout(name: OciArchiveName, folder: Path) -> None:
    try:
        with tarfile.open(name.path, "r:*") as tar:
            for member in tar:
                match = _LAYOUT_MEMBER.fullmatch(member.name)
                if match is None or not member.isreg():
                    continue
                target = folder / match.group(1)
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
    except (tarfile.TarError, EOFError) as exc:
        raise ImageRefError(str(name), f"not a readable tar: {exc}") from exc
    if not (folder / "index.json").is_file():
        raise ImageRefError(str(name), "the archive holds no OCI image layout (no index.json)")


def oci_archive_destination(name: OciArchiveName) -> StagingDestination:
    """Without a tag the image is listed in the archive's index.json without a name, as
    skopeo writes it."""
    return StagingDestination(name.path, _write_layout_tar, name.tag)


def _write_layout_tar(layout: Path, manifest: RawManifest, out: BinaryIO) -> None:
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add_file(tar, "oci-layout", layout / "oci-layout")
        add_file(tar, "index.json", layout / "index.json")
        for path in sorted((layout / "blobs").glob("*/*")):
            if not path.name.startswith("."):
                add_file(tar, f"blobs/{path.parent.name}/{path.name}", path)
