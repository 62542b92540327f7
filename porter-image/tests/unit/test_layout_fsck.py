"""fsck and validate: every problem is found and named."""

from __future__ import annotations

import json
import os

import pytest
from porter_image.errors import TagNotFoundError
from porter_image.layout import Layout, check_layout, validate_layout
from porter_specs import media_types
from porter_specs.canonical import canonical_json


def _manifest(layout: Layout) -> dict:
    return layout.read_json(layout.resolve("v1"))


def _objects(layout: Layout) -> list[str]:
    return [p.object for p in check_layout(layout)]


def test_a_healthy_layout_has_no_problems(image_layout: Layout) -> None:
    assert check_layout(image_layout) == []


def test_fsck_names_a_corrupt_layer(image_layout: Layout) -> None:
    layer = _manifest(image_layout)["layers"][0]["digest"]
    path = image_layout.blobs / "sha256" / layer.split(":")[1]
    path.write_bytes(path.read_bytes()[:-1] + b"!")
    problems = check_layout(image_layout)
    assert [str(p) for p in problems] == [
        f"blob {layer}: content hashes to {problems[0].reason.split()[3]} (corrupt)"
    ]


def test_fsck_names_a_missing_config(image_layout: Layout) -> None:
    config = _manifest(image_layout)["config"]["digest"]
    os.unlink(image_layout.blobs / "sha256" / config.split(":")[1])
    problems = check_layout(image_layout)
    assert len(problems) == 1 and problems[0].object == f"blob {config}"
    assert problems[0].reason.startswith("missing (referenced by manifest")


def test_fsck_names_a_size_that_disagrees(image_layout: Layout) -> None:
    manifest = _manifest(image_layout)
    manifest["layers"][0]["size"] += 1
    descriptor = image_layout.put_json(media_types.IMAGE_MANIFEST, manifest)
    image_layout.set_tag("v1", descriptor)
    problems = check_layout(image_layout)
    assert any("bytes but manifest" in p.reason for p in problems)


def test_fsck_names_a_manifest_that_is_not_json(layout: Layout) -> None:
    digest, size = layout.put_bytes(b"{not json")
    from porter_specs.models import Descriptor

    layout.set_tag("v1", Descriptor(media_types.IMAGE_MANIFEST, digest, size))
    problems = check_layout(layout)
    assert [p.object for p in problems] == [f"blob {digest}"]
    assert "invalid JSON" in problems[0].reason


def test_fsck_reports_a_schema_violation_of_a_manifest(image_layout: Layout) -> None:
    manifest = _manifest(image_layout)
    del manifest["config"]
    descriptor = image_layout.put_json(media_types.IMAGE_MANIFEST, manifest)
    image_layout.set_tag("v1", descriptor)
    assert any(o.startswith(f"manifest {descriptor.digest}") for o in _objects(image_layout))


def test_fsck_reports_layers_and_diff_ids_that_disagree(image_layout: Layout) -> None:
    manifest = _manifest(image_layout)
    manifest["layers"] = []
    descriptor = image_layout.put_json(media_types.IMAGE_MANIFEST, manifest)
    image_layout.set_tag("v1", descriptor)
    reasons = [p.reason for p in check_layout(image_layout)]
    assert "0 layers but its config lists 1 diff_ids" in reasons


def test_fsck_verifies_unreferenced_blobs_too(image_layout: Layout) -> None:
    digest, _ = image_layout.put_bytes(b"orphan")
    image_layout.blob_path(digest).write_bytes(b"changed")
    assert _objects(image_layout) == [f"blob {digest}"]


def test_fsck_names_a_file_in_blobs_that_is_not_a_digest(layout: Layout) -> None:
    (layout.blobs / "sha256" / "junk").write_bytes(b"x")
    assert _objects(layout) == ["blobs/sha256/junk"]


def test_fsck_reports_invalid_index_json(layout: Layout) -> None:
    (layout.path / "index.json").write_text("{")
    assert "index.json" in _objects(layout)


def test_fsck_reports_a_tag_on_two_entries(image_layout: Layout) -> None:
    index = json.loads((image_layout.path / "index.json").read_text())
    index["manifests"].append(index["manifests"][0])
    (image_layout.path / "index.json").write_bytes(canonical_json(index))
    reasons = [p.reason for p in check_layout(image_layout)]
    assert "tag 'v1' names 2 entries" in reasons


def test_fsck_reports_stale_temp_files(image_layout: Layout) -> None:
    (image_layout.path / ".porter-tmp-x").write_bytes(b"")
    assert _objects(image_layout) == [".porter-tmp-x"]


def test_validate_of_one_tag_ignores_other_images(image_layout: Layout) -> None:
    from image_test_support import make_image

    broken = make_image(image_layout, "broken", {"b": b"b"})
    os.unlink(image_layout.blob_path(broken.digest))
    assert validate_layout(image_layout, "v1") == []
    assert validate_layout(image_layout, "broken") != []


def test_validate_of_an_unknown_tag_is_an_error(image_layout: Layout) -> None:
    with pytest.raises(TagNotFoundError):
        validate_layout(image_layout, "nope")
