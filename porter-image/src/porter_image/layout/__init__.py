"""porter-image's OCI image layout: blobs, index.json, tags, gc and fsck.

The checks (fsck, validate) are imported on first use: most commands only read and write
blobs and tags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from porter_image.layout.problem import Problem
from porter_image.layout.store import REF_NAME, IndexEntry, Layout, check_tag
from porter_image.lazy import lazy_exports

if TYPE_CHECKING:
    from porter_image.layout.fsck import check_layout, validate_layout

__all__ = [
    "REF_NAME",
    "IndexEntry",
    "Layout",
    "Problem",
    "check_layout",
    "check_tag",
    "validate_layout",
]
__getattr__, __dir__ = lazy_exports(__name__, {"check_layout": "fsck", "validate_layout": "fsck"})
