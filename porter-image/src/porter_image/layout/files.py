"""The names of an OCI image layout's own files (image-layout.md), which the store writes and
fsck checks: below both, so that neither imports the other for them."""

from __future__ import annotations

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
