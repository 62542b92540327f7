"""`docker import`: a root filesystem tar (plain, gzip or zstd) becomes a one-layer image."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, BinaryIO

from porter_image.image import commit_image, timestamp
from porter_image.layer import LayerError, write_tar_stream
from porter_specs.models import Descriptor, Platform

from porterd.errors import DaemonError, InvalidParameter
from porterd.images.changes import apply_changes
from porterd.images.records import StoredImage

if TYPE_CHECKING:
    from porter_image.layer import LayerResult
    from porter_image.layout import Layout

    from porterd.images.store import ImageStore

INCOMING = "porterd-incoming-"  # the plain tag an image has between its commit and its naming


def incoming_tag() -> str:
    return INCOMING + uuid.uuid4().hex[:16]


def write_gzip_layer(layout: Layout, stream: BinaryIO, what: str) -> LayerResult:
    """The tar `stream` (plain, gzip or zstd) as one gzip layer blob in `layout`, inside its
    `writing()`. A tar that is not one is InvalidParameter; the store's own disk failing (full,
    read-only; the blob is discarded) is DaemonError. `what` names the operation in both."""
    try:
        with layout.blob_writer() as out:
            return write_tar_stream(stream, out, "gzip")
    except LayerError as exc:
        raise InvalidParameter(f"cannot {what}: {exc}") from exc
    except OSError as exc:
        raise DaemonError(f"cannot {what}: {exc.strerror or exc}") from exc


def import_rootfs(
    store: ImageStore,
    stream: BinaryIO,
    name: str | None,
    message: str = "",
    changes: Iterable[str] = (),
    source: str = "-",
) -> StoredImage:
    """Store the tar `stream` as one gzip layer of a new image named `name` (a full reference;
    None: dangling), its config changed by `changes`."""
    config = apply_changes({}, changes)
    created = timestamp()
    host = Platform.host()
    tag = incoming_tag()
    layout = store.layout()
    with layout.writing():
        layer = write_gzip_layer(layout, stream, f"import {source}")
        document = {
            "created": created,
            "architecture": host.architecture,
            "os": host.os,
            **({"variant": host.variant} if host.variant else {}),
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": [str(layer.diff_id)]},
            "history": [{"created": created, "comment": message or f"Imported from {source}"}],
        }
        descriptor = Descriptor(layer.media_type, layer.digest, layer.size)
        commit_image(layout, tag, document, (descriptor,))
    stored = store.adopt(tag, [name] if name else [])
    store._publish("import", stored.id)
    return stored
