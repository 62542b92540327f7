"""`--cache-to` and `--cache-from`: the build cache as an OCI artifact in a registry.

The artifact is an image manifest with artifactType `application/vnd.porter.build.cache.v1`,
the empty config, and as layers an index of cache entries (step key -> config and layers)
followed by every layer those entries name, so a CI machine that imports it has the blobs and
the entries together, as BuildKit's registry cache does. It travels through copy_image by
way of a temporary tag in the layout, removed afterwards.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from porter_specs import media_types
from porter_specs.models import Descriptor

from porter_image.build.cache import BuildCache
from porter_image.build.errors import BuildError
from porter_image.layout import Layout

ARTIFACT_TYPE = "application/vnd.porter.build.cache.v1"
INDEX_TYPE = "application/vnd.porter.build.cache.index.v1+json"


@contextlib.contextmanager
def _temporary_tag(layout: Layout) -> Iterator[str]:
    tag = f"porter-build-cache-{uuid.uuid4().hex[:12]}"
    try:
        yield tag
    finally:
        if tag in layout.tags():
            layout.remove_tag(tag)


def export_cache(cache: BuildCache, ref: str, copy: Callable[[str, str], object]) -> Descriptor:
    """Push the entries this build used or made to `ref` (HOST/REPO:TAG)."""
    layout = cache.layout
    entries = {key: doc for key in cache.used if (doc := cache.read(key)) is not None}
    layers: dict[str, dict[str, Any]] = {}
    for document in entries.values():
        for layer in document["layers"]:
            layers.setdefault(layer["digest"], layer)
    with layout.writing():
        index = layout.put_json(INDEX_TYPE, {"entries": entries})
        empty_digest, empty_size = layout.put_bytes(b"{}")
        manifest = {
            "schemaVersion": 2,
            "mediaType": media_types.IMAGE_MANIFEST,
            "artifactType": ARTIFACT_TYPE,
            "config": Descriptor(media_types.EMPTY_JSON, empty_digest, empty_size).to_json(),
            "layers": [index.to_json(), *layers.values()],
        }
        descriptor = layout.put_json(media_types.IMAGE_MANIFEST, manifest)
        with _temporary_tag(layout) as tag:
            layout.set_tag(tag, descriptor)
            copy(f"{layout.path}:{tag}", f"docker://{ref}")
    return descriptor


def import_cache(cache: BuildCache, ref: str, copy: Callable[[str, str], object]) -> int:
    """Pull the cache artifact at `ref` into the layout; the number of entries it added."""
    layout = cache.layout
    with _temporary_tag(layout) as tag:
        copy(f"docker://{ref}", f"{layout.path}:{tag}")
        manifest = layout.read_json(layout.resolve(tag))
    if manifest.get("artifactType") != ARTIFACT_TYPE:
        raise BuildError(f"--cache-from {ref}", "is not a build cache artifact")
    index = next(
        (raw for raw in manifest.get("layers", []) if raw.get("mediaType") == INDEX_TYPE), None
    )
    if index is None:
        raise BuildError(f"--cache-from {ref}", "the artifact has no cache index")
    entries = layout.read_json(Descriptor.from_json(index)).get("entries", {})
    added = 0
    for key, document in entries.items():
        if cache.read(key) is None:
            cache.write(key, document)
            added += 1
    return added
