"""The names of the store's images, kept in its OCI layout's index.json.

Each name is one index entry whose `org.opencontainers.image.ref.name` is the full docker
reference (`docker.io/library/busybox:latest`, or `...@sha256:...` for a pulled digest), as
containerd writes them and skopeo and umoci read them; an image without names (dangling)
keeps one entry without a name, so the layout's gc does not take it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from porter_image.layout import REF_NAME, Layout
from porter_image.layout.atomic import write_file_atomic
from porter_image.layout.lock import DirectoryLock
from porter_specs.canonical import canonical_json
from porter_specs.models import Descriptor

Entries = list[dict[str, Any]]


def entry_name(raw: dict[str, Any]) -> str | None:
    annotations = raw.get("annotations")
    return annotations.get(REF_NAME) if isinstance(annotations, dict) else None


def without(entries: Entries, names: set[str]) -> Entries:
    """`entries` but those named one of `names`."""
    return [e for e in entries if entry_name(e) not in names]


def named(descriptor: Descriptor, name: str | None) -> dict[str, Any]:
    """The index entry of `descriptor` under `name` (None: an unnamed entry)."""
    annotations = {k: v for k, v in descriptor.annotations.items() if k != REF_NAME}
    if name is not None:
        annotations[REF_NAME] = name
    plain = Descriptor(
        descriptor.media_type, descriptor.digest, descriptor.size, platform=descriptor.platform
    )
    return plain.with_annotations(**annotations).to_json() if annotations else plain.to_json()


@contextmanager
def _index_lock(layout: Layout) -> Iterator[None]:
    """The lock porter-image's own tag changes take, so neither loses the other's update."""
    with DirectoryLock(layout.blobs).hold(exclusive=True):
        yield


def edit_entries(layout: Layout, edit: Callable[[Entries], Entries]) -> None:
    """Replace index.json's manifests by `edit(manifests)`, atomically and under the lock."""
    with layout.writing(), _index_lock(layout):
        index = layout.read_index()
        index["manifests"] = edit(list(index["manifests"]))
        write_file_atomic(layout.path / "index.json", canonical_json(index))
