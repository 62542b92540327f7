"""porter-image's OCI image layout: blobs, index.json, tags, gc and fsck."""

from porter_image.layout.fsck import check_layout, validate_layout
from porter_image.layout.problem import Problem
from porter_image.layout.store import REF_NAME, IndexEntry, Layout, check_tag

__all__ = [
    "REF_NAME",
    "IndexEntry",
    "Layout",
    "Problem",
    "check_layout",
    "check_tag",
    "validate_layout",
]
