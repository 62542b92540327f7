"""Entries of the build cache: kept with the layout, a miss once a layer is gone."""

from __future__ import annotations

import io
from pathlib import Path

from porter_image.build.cache import BuildCache, CachedState
from porter_image.layout import Layout
from porter_specs import media_types
from porter_specs.models import Descriptor


def stored_layer(layout: Layout, data: bytes) -> Descriptor:
    digest, size = layout.put_blob(io.BytesIO(data))
    return Descriptor(media_types.LAYER_TAR_GZIP, digest, size)


def test_an_entry_is_found_by_a_new_cache_over_the_same_layout(tmp_path: Path) -> None:
    layout = Layout.create(tmp_path / "layout")
    state = CachedState({"Env": ["A=1"]}, (stored_layer(layout, b"layer"),))
    BuildCache(layout).put("k", state)
    assert BuildCache(Layout.open(tmp_path / "layout")).get("k") == state


def test_an_entry_whose_layer_is_gone_is_a_miss(tmp_path: Path) -> None:
    layout = Layout.create(tmp_path / "layout")
    layer = stored_layer(layout, b"layer")
    BuildCache(layout).put("k", CachedState({}, (layer,)))
    layout.blob_path(layer.digest).unlink()
    assert BuildCache(layout).get("k") is None


def test_an_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    cache = BuildCache(Layout.create(tmp_path / "layout"))
    cache.write("k", {"config": {}})
    assert cache.get("k") is None
    assert cache.get("absent") is None
