"""Helpers shared by porter-image's tests (imported by name: conftest puts this folder on
sys.path): small hand-made images and directory snapshots."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
from pathlib import Path

from porter_image.layout import Layout
from porter_specs import media_types
from porter_specs.digest import from_bytes
from porter_specs.models import Descriptor, Platform

REPO = Path(__file__).resolve().parents[2]
PORTER_IMAGE = REPO / ".venv" / "bin" / "porter-image"


def snapshot(root: Path) -> str:
    """A digest of everything under `root` (names, types, modes, contents), to prove that a
    failed operation left a layout exactly as it was."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            st = path.lstat()
            h.update(f"{path.relative_to(root)}\0{st.st_mode:o}\0".encode())
            if path.is_file() and not path.is_symlink():
                h.update(path.read_bytes())
    return h.hexdigest()


def tar_bytes(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar of regular files, made without porter-image's layer code."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def make_image(
    layout: Layout,
    tag: str,
    files: dict[str, bytes] | None = None,
    blob: bytes | None = None,
    media_type: str = media_types.LAYER_TAR,
) -> Descriptor:
    """A one-layer image tagged `tag`; returns the manifest descriptor.

    The layer is an uncompressed tar of `files`, or `blob` stored as is under `media_type`
    (its diff_id is then that of the tar of `files`, for hand-made broken layers)."""
    layer = tar_bytes(files if files is not None else {"hello.txt": b"hello\n"})
    layer_digest, layer_size = layout.put_bytes(blob if blob is not None else layer)
    host = Platform.host()
    config = {
        "architecture": host.architecture,
        "os": host.os,
        "rootfs": {"type": "layers", "diff_ids": [str(from_bytes(layer))]},
        "config": {"Env": ["PATH=/bin"]},
        "history": [{"created_by": "test"}],
    }
    config_descriptor = layout.put_json(media_types.IMAGE_CONFIG, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_types.IMAGE_MANIFEST,
        "config": config_descriptor.to_json(),
        "layers": [
            Descriptor(media_type, layer_digest, layer_size).to_json(),
        ],
    }
    descriptor = layout.put_json(media_types.IMAGE_MANIFEST, manifest)
    layout.set_tag(tag, descriptor)
    return descriptor


def build_busybox(image: str) -> None:
    """Run scripts/make-busybox-image.sh LAYOUT:TAG with this checkout's porter-image."""
    subprocess.run(
        ["bash", str(REPO / "scripts" / "make-busybox-image.sh"), image],
        check=True,
        env={**os.environ, "PORTER_IMAGE": str(PORTER_IMAGE)},
        capture_output=True,
        timeout=300,
    )
