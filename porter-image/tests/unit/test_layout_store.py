"""The layout store: creation, verified atomic blob writes, documents and tags."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from image_test_support import make_image, snapshot
from porter_image.errors import (
    BlobNotFoundError,
    InvalidTagError,
    LayoutError,
    TagNotFoundError,
)
from porter_image.layout import REF_NAME, Layout, atomic, store
from porter_specs import media_types
from porter_specs.digest import from_bytes
from porter_specs.errors import DigestMismatchError, SizeMismatchError
from porter_specs.models import Descriptor


def test_create_writes_layout_header_index_and_blobs_dir(tmp_path: Path) -> None:
    layout = Layout.create(tmp_path / "new")
    assert json.loads((layout.path / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((layout.path / "index.json").read_text())
    assert index["schemaVersion"] == 2 and index["manifests"] == []
    assert (layout.path / "blobs" / "sha256").is_dir()


def test_create_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(LayoutError, match="not an empty directory"):
        Layout.create(tmp_path)


def test_open_refuses_a_directory_without_oci_layout(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="no oci-layout file"):
        Layout.open(tmp_path)


def test_open_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="no such layout directory"):
        Layout.open(tmp_path / "missing")


def test_open_or_create_creates_only_when_missing(tmp_path: Path) -> None:
    first = Layout.open_or_create(tmp_path / "l")
    make_image(first, "t")
    assert Layout.open_or_create(tmp_path / "l").tags() == ["t"]


def test_put_blob_stores_content_under_its_digest(layout: Layout) -> None:
    digest, size = layout.put_blob(io.BytesIO(b"content"))
    assert digest == from_bytes(b"content") and size == 7
    assert layout.blob_path(digest).read_bytes() == b"content"


def test_put_blob_with_wrong_expected_digest_leaves_layout_unchanged(layout: Layout) -> None:
    before = snapshot(layout.path)
    with pytest.raises(DigestMismatchError, match="digest mismatch"):
        layout.put_blob(io.BytesIO(b"content"), expected=from_bytes(b"other"))
    assert snapshot(layout.path) == before


def test_put_blob_longer_than_promised_is_refused_without_trace(layout: Layout) -> None:
    before = snapshot(layout.path)
    with pytest.raises(SizeMismatchError):
        layout.put_blob(io.BytesIO(b"content"), expected=from_bytes(b"content"), size=3)
    assert snapshot(layout.path) == before


def test_put_blob_shorter_than_promised_is_refused_without_trace(layout: Layout) -> None:
    before = snapshot(layout.path)
    with pytest.raises(SizeMismatchError):
        layout.put_blob(io.BytesIO(b"cont"), size=7)
    assert snapshot(layout.path) == before


def test_put_blob_of_existing_content_is_idempotent(layout: Layout) -> None:
    first = layout.put_blob(io.BytesIO(b"same"))
    assert layout.put_blob(io.BytesIO(b"same"), expected=first[0], size=4) == first


def test_blob_writer_commits_under_the_written_digest(layout: Layout) -> None:
    with layout.blob_writer() as out:
        out.write(b"streamed")
    assert layout.blob_path(out.digest()).read_bytes() == b"streamed"


def test_blob_writer_failure_leaves_layout_unchanged(layout: Layout) -> None:
    before = snapshot(layout.path)
    with pytest.raises(RuntimeError), layout.blob_writer() as out:
        out.write(b"partial")
        raise RuntimeError("writer failed")
    assert snapshot(layout.path) == before


def test_read_json_refuses_a_blob_that_does_not_match_its_descriptor(layout: Layout) -> None:
    descriptor = layout.put_json(media_types.IMAGE_CONFIG, {"a": 1})
    layout.blob_path(descriptor.digest).write_bytes(b'{"a":2}')
    with pytest.raises(DigestMismatchError):
        layout.read_json(descriptor)


def test_open_blob_of_unknown_digest_names_it(layout: Layout) -> None:
    digest = from_bytes(b"nothing")
    with pytest.raises(BlobNotFoundError, match=str(digest)):
        layout.open_blob(digest)


def test_set_tag_writes_ref_name_annotation(layout: Layout) -> None:
    descriptor = make_image(layout, "v1")
    raw = json.loads((layout.path / "index.json").read_text())["manifests"]
    assert raw[0]["annotations"][REF_NAME] == "v1"
    assert layout.resolve("v1").digest == descriptor.digest


def test_set_tag_replaces_the_previous_target(layout: Layout) -> None:
    make_image(layout, "v1", {"a": b"1"})
    second = make_image(layout, "v1", {"a": b"2"})
    assert [e.descriptor.digest for e in layout.entries()] == [second.digest]


def test_tags_are_listed_sorted(layout: Layout) -> None:
    for tag in ("b", "a", "c"):
        make_image(layout, tag)
    assert layout.tags() == ["a", "b", "c"]


def test_remove_tag_drops_the_entry(image_layout: Layout) -> None:
    image_layout.remove_tag("v1")
    assert image_layout.tags() == []


def test_remove_unknown_tag_is_an_error(image_layout: Layout) -> None:
    with pytest.raises(TagNotFoundError, match="'nope' not found"):
        image_layout.remove_tag("nope")


def test_resolve_unknown_tag_is_an_error(image_layout: Layout) -> None:
    with pytest.raises(TagNotFoundError):
        image_layout.resolve("nope")


@pytest.mark.parametrize("tag", ["", "-x", ".x", "a/b", "a:b", "x" * 129])
def test_set_tag_refuses_invalid_tags(image_layout: Layout, tag: str) -> None:
    with pytest.raises(InvalidTagError):
        image_layout.set_tag(tag, image_layout.resolve("v1"))


def test_set_tag_refuses_a_descriptor_of_a_missing_blob(layout: Layout) -> None:
    missing = Descriptor(media_types.IMAGE_MANIFEST, from_bytes(b"x"), 1)
    with pytest.raises(BlobNotFoundError):
        layout.set_tag("v1", missing)


def test_index_update_leaves_no_temp_files(image_layout: Layout) -> None:
    image_layout.set_tag("v2", image_layout.resolve("v1"))
    assert sorted(p.name for p in image_layout.path.iterdir()) == [
        "blobs",
        "index.json",
        "oci-layout",
    ]


def test_set_tag_to_the_entry_it_names_leaves_index_json_alone(image_layout: Layout) -> None:
    index = image_layout.path / "index.json"
    before = index.stat()
    image_layout.set_tag("v1", image_layout.resolve("v1"))
    after = index.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_blobs_stored_without_sync_dir_are_made_durable_by_one_folder_fsync(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(atomic, "fsync_dir", synced.append)
    monkeypatch.setattr(store, "fsync_dir", synced.append)
    for data in (b"one", b"two", b"three"):
        layout.put_blob(io.BytesIO(data), sync_dir=False)
    assert synced == []
    layout.sync_blobs()
    assert synced == [layout.path / "blobs" / "sha256"]
