"""Garbage collection: remove blobs that nothing reachable from index.json references.

gc refuses to run on a layout whose reference graph it cannot walk completely (a missing
or unreadable manifest or index), because what that document references would look
unreferenced and be lost. It holds the exclusive layout lock, so no writer of ours is
between storing a blob and tagging it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from porter_specs.digest import Digest
from porter_specs.errors import PorterError

from porter_image.errors import LayoutError
from porter_image.layout.atomic import TEMP_PREFIX
from porter_image.layout.walk import edges, is_document

if TYPE_CHECKING:
    from porter_image.layout.store import Layout


def reachable(layout: Layout) -> set[Digest]:
    """Every digest reachable from index.json; LayoutError when the walk cannot complete."""
    seen: set[Digest] = set()
    pending = [(e.descriptor, True) for e in layout.entries()]
    while pending:
        descriptor, required = pending.pop()
        if descriptor.digest in seen:
            continue
        if not layout.has_blob(descriptor.digest):
            if required and is_document(descriptor.media_type):
                raise LayoutError(
                    layout.path, f"gc refused: {descriptor.digest} is referenced but missing"
                )
            continue
        seen.add(descriptor.digest)
        if is_document(descriptor.media_type):
            try:
                document = layout.read_json(descriptor)
                pending.extend(
                    (e.descriptor, e.required) for e in edges(descriptor.media_type, document)
                )
            except PorterError as exc:
                raise LayoutError(layout.path, f"gc refused: {exc}") from exc
    return seen


def collect(layout: Layout, dry_run: bool = False) -> list[Digest]:
    """Delete (or, on a dry run, only list) unreferenced blobs; returns them sorted."""
    with layout.gc_lock.hold(exclusive=True):
        keep = reachable(layout)
        garbage = sorted(d for d in layout.blob_digests() if d not in keep)
        if dry_run:
            return garbage
        for digest in garbage:
            os.unlink(layout.blob_path(digest))
        for entry in os.listdir(layout.path):
            if entry.startswith(TEMP_PREFIX):
                os.unlink(layout.path / entry)
        return garbage
