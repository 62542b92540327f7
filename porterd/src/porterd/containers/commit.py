"""`docker commit`: the container's upper layer as a new layer on top of its image's, stored
through the image store's layout and named as the image store names an import.

The upper folder is overlayfs's: a deleted file is a 0/0 character device and a directory
made anew carries `trusted.overlay.opaque=y`. The layer gets the OCI forms instead, an empty
`.wh.NAME` file and a `.wh..wh..opq` entry in the folder, and no trusted.overlay.* xattr.
The image config is the parent's with the container's Config (Cmd, Entrypoint, Env...), the
`changes` applied over it, the new diff_id and a history entry.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from porter_image.image import commit_image, timestamp
from porter_image.reference import parse_docker_reference
from porter_specs.models import Descriptor
from porterd.errors import DaemonError
from porterd.images.changes import apply_changes
from porterd.images.importing import incoming_tag, write_gzip_layer

if TYPE_CHECKING:
    from porterd.containers.record import Container
    from porterd.containers.service import ContainerService

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_CONFIG_KEYS = (
    "Cmd", "Entrypoint", "Env", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes",
    "StopSignal", "Healthcheck",
)  # fmt: skip


def upper_to_tar(upper: Path, out: tarfile.TarFile) -> None:
    """The upper folder's entries (parents first) in OCI layer form."""
    for folder, dirs, files in os.walk(upper):
        dirs.sort()
        relative = os.path.relpath(folder, upper)
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            arcname = name if relative == "." else f"{relative}/{name}"
            info = os.lstat(path)
            if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                whiteout = tarfile.TarInfo(_sibling(arcname, WHITEOUT + name))
                whiteout.mtime = int(info.st_mtime)
                out.addfile(whiteout)
                continue
            entry = out.gettarinfo(path, arcname)
            entry.uname = entry.gname = ""
            if entry.isreg():
                with open(path, "rb") as data:
                    out.addfile(entry, data)
            else:
                out.addfile(entry)
            if stat.S_ISDIR(info.st_mode) and _opaque(path):
                marker = tarfile.TarInfo(f"{arcname}/{OPAQUE}")
                marker.mtime = int(info.st_mtime)
                out.addfile(marker)


def _sibling(arcname: str, name: str) -> str:
    parent = os.path.dirname(arcname)
    return f"{parent}/{name}" if parent else name


def _opaque(path: str) -> bool:
    with contextlib.suppress(OSError):
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    return False


def commit(
    service: ContainerService,
    container: Container,
    reference: str | None,
    comment: str = "",
    author: str = "",
    changes: list[str] | None = None,
    config: dict[str, Any] | None = None,
) -> str:
    """The new image's id."""
    store = service.images
    name = str(parse_docker_reference(reference)) if reference else None
    stored = store.get(container.image_id)
    parent = store.image(stored)
    document = dict(parent.config_json)
    execution = dict(document.get("config") or {})
    execution.update({k: container.config[k] for k in _CONFIG_KEYS if container.config.get(k)})
    execution.update({k: v for k, v in (config or {}).items() if k in _CONFIG_KEYS})
    document["config"] = apply_changes(execution, changes or [])
    created = timestamp()
    layout = store.layout()
    tag = incoming_tag()
    with tempfile.TemporaryFile(dir=service.paths(container).data) as spool:
        try:  # the container's own disk: full, or a file gone while it was read
            with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
                upper_to_tar(service.paths(container).upper, tar)
        except OSError as error:
            raise DaemonError(f"cannot commit {container.id}: {error.strerror or error}") from error
        spool.seek(0)
        with layout.writing():
            layer = write_gzip_layer(layout, spool, f"commit {container.id}")
            diff_ids = [*(document.get("rootfs") or {}).get("diff_ids", []), str(layer.diff_id)]
            document["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
            document["created"] = created
            if author:
                document["author"] = author
            history = {"created": created, "created_by": " ".join(container.args)}
            if comment:
                history["comment"] = comment
            document["history"] = [*(document.get("history") or []), history]
            descriptor = Descriptor(layer.media_type, layer.digest, layer.size)
            commit_image(layout, tag, document, (*parent.manifest.layers, descriptor))
    image = store.adopt(tag, [name] if name else [])
    service.publish(container, "commit", comment=comment)
    return image.id
