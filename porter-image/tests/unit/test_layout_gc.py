"""Garbage collection of unreferenced blobs, and its lock against writers."""

from __future__ import annotations

import fcntl
import os

import pytest
from image_test_support import make_image
from porter_image.errors import LayoutError
from porter_image.layout import Layout
from porter_specs.digest import from_bytes


def test_gc_removes_only_unreferenced_blobs(image_layout: Layout) -> None:
    kept = set(image_layout.blob_digests())
    orphan, _ = image_layout.put_bytes(b"orphan")
    assert image_layout.gc() == [orphan]
    assert set(image_layout.blob_digests()) == kept


def test_gc_dry_run_lists_but_keeps(image_layout: Layout) -> None:
    orphan, _ = image_layout.put_bytes(b"orphan")
    assert image_layout.gc(dry_run=True) == [orphan]
    assert image_layout.has_blob(orphan)


def test_gc_collects_the_blobs_of_an_untagged_image(image_layout: Layout) -> None:
    make_image(image_layout, "other", {"only-here": b"x"})
    image_layout.remove_tag("other")
    assert len(image_layout.gc()) == 3  # manifest, config, layer


def test_gc_keeps_blobs_shared_with_a_tagged_image(image_layout: Layout) -> None:
    image_layout.set_tag("alias", image_layout.resolve("v1"))
    image_layout.remove_tag("v1")
    assert image_layout.gc() == []


def test_gc_refuses_when_a_referenced_manifest_is_missing(image_layout: Layout) -> None:
    os.unlink(image_layout.blob_path(image_layout.resolve("v1").digest))
    blobs = set(image_layout.blob_digests())
    with pytest.raises(LayoutError, match="gc refused"):
        image_layout.gc()
    assert set(image_layout.blob_digests()) == blobs


def test_gc_removes_stale_temp_files(image_layout: Layout) -> None:
    (image_layout.path / ".porter-tmp-crashed").write_bytes(b"half")
    image_layout.gc()
    assert not (image_layout.path / ".porter-tmp-crashed").exists()


def test_writers_hold_the_lock_gc_needs(layout: Layout) -> None:
    fd = os.open(layout.path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with layout.writing(), pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again once the writer is done
    finally:
        os.close(fd)


def test_gc_does_not_remove_a_digest_it_cannot_parse(layout: Layout) -> None:
    stray = layout.blobs / "sha256" / "not-a-digest"
    stray.write_bytes(b"x")
    layout.gc()
    assert stray.exists() and not layout.has_blob(from_bytes(b"x"))
