"""porterd's image store: an OCI image layout and layer snapshots under the data root.

See `porterd.images.store` for the layout on disk and porterd/README.md for the interface the
containers service and the API use.
"""

from __future__ import annotations

from porterd.images.records import (
    ContainerImage,
    ContainerUse,
    DeleteResult,
    EventSink,
    ImageUsage,
    NoContainers,
    PruneResult,
    StoredImage,
)
from porterd.images.registry import RegistrySettings
from porterd.images.store import ImageStore

__all__ = [
    "ContainerImage",
    "ContainerUse",
    "DeleteResult",
    "EventSink",
    "ImageStore",
    "ImageUsage",
    "NoContainers",
    "PruneResult",
    "RegistrySettings",
    "StoredImage",
]
