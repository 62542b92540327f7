"""Helpers for tests of code over snapshots: an image of several hand-made layers.

Public, like `porter_image.layer.testing`, so that porterd's tests can make the same images.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from porter_specs import media_types
from porter_specs.digest import from_bytes
from porter_specs.models import Descriptor, Platform

from porter_image.image import commit_image, timestamp
from porter_image.layout import Layout


def layered_image(
    layout: Layout,
    tag: str,
    layers: Sequence[bytes],
    config: dict[str, Any] | None = None,
    created: int = 0,
) -> Descriptor:
    """Commit an image of uncompressed tar `layers` (bottom first) under `tag`; its
    execution config is `config`; returns the manifest's descriptor."""
    descriptors = []
    for data in layers:
        digest, size = layout.put_bytes(data)
        descriptors.append(Descriptor(media_types.LAYER_TAR, digest, size))
    host = Platform.host()
    when = timestamp(created)
    document = {
        "created": when,
        "architecture": host.architecture,
        "os": host.os,
        "config": config if config is not None else {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [str(from_bytes(data)) for data in layers]},
        "history": [{"created": when, "created_by": f"layer {i}"} for i in range(len(layers))],
    }
    return commit_image(layout, tag, document, tuple(descriptors))
