"""A copy to a layout (or oci-archive) named without a tag lists the manifest in index.json
without a ref.name, as skopeo does; its interop with skopeo is in test_interop_skopeo."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from image_test_support import make_image
from porter_image.copy import copy_image
from porter_image.errors import ImageRefError
from porter_image.layout import Layout


def test_the_manifest_is_listed_without_a_name(image_layout: Layout, tmp_path: Path) -> None:
    result = copy_image(f"oci:{image_layout.path}:v1", f"oci:{tmp_path / 'out'}")
    index = Layout.open(tmp_path / "out").read_index()
    assert index["manifests"] == [result.descriptor.to_json()]


def test_copying_the_same_image_again_keeps_one_entry(image_layout: Layout, tmp_path: Path) -> None:
    for _ in range(2):
        copy_image(f"oci:{image_layout.path}:v1", f"oci:{tmp_path / 'out'}")
    assert len(Layout.open(tmp_path / "out").entries()) == 1


def test_another_image_is_listed_beside_the_first(image_layout: Layout, tmp_path: Path) -> None:
    make_image(image_layout, "v2", {"other": b"file"})
    copy_image(f"oci:{image_layout.path}:v1", f"oci:{tmp_path / 'out'}")
    copy_image(f"oci:{image_layout.path}:v2", f"oci:{tmp_path / 'out'}")
    digests = [e.descriptor.digest for e in Layout.open(tmp_path / "out").entries()]
    assert digests == [image_layout.resolve("v1").digest, image_layout.resolve("v2").digest]


def test_the_untagged_image_reads_back_as_the_layouts_only_image(
    image_layout: Layout, tmp_path: Path
) -> None:
    copy_image(f"oci:{image_layout.path}:v1", f"oci:{tmp_path / 'out'}")
    back = copy_image(f"oci:{tmp_path / 'out'}", f"oci:{tmp_path / 'back'}:v1")
    assert back.digest == image_layout.resolve("v1").digest


def test_tagging_it_later_names_the_same_entry(image_layout: Layout, tmp_path: Path) -> None:
    copy_image(f"oci:{image_layout.path}:v1", f"oci:{tmp_path / 'out'}")
    copy_image(f"oci:{image_layout.path}:v1", f"oci:{tmp_path / 'out'}:named")
    entries = Layout.open(tmp_path / "out").entries()
    assert [(e.tag, e.descriptor.digest) for e in entries] == [
        ("named", image_layout.resolve("v1").digest)
    ]


def test_a_digest_destination_must_match_the_copy(image_layout: Layout, tmp_path: Path) -> None:
    other = make_image(image_layout, "v2", {"other": b"file"})
    with pytest.raises(ImageRefError, match="the copied manifest is"):
        copy_image(f"oci:{image_layout.path}:v1", f"oci:{tmp_path / 'out'}@{other.digest}")
    assert not (tmp_path / "out").exists()


def test_a_digest_destination_lists_the_matching_copy_unnamed(
    image_layout: Layout, tmp_path: Path
) -> None:
    digest = image_layout.resolve("v1").digest
    copy_image(f"oci:{image_layout.path}:v1", f"oci:{tmp_path / 'out'}@{digest}")
    assert [(e.tag, e.descriptor.digest) for e in Layout.open(tmp_path / "out").entries()] == [
        (None, digest)
    ]


def test_an_oci_archive_without_a_tag_names_no_image(image_layout: Layout, tmp_path: Path) -> None:
    result = copy_image(f"oci:{image_layout.path}:v1", f"oci-archive:{tmp_path / 'a.tar'}")
    with tarfile.open(tmp_path / "a.tar") as tar:
        member = tar.extractfile("index.json")
        assert member is not None
        index = json.load(member)
    assert index["manifests"] == [result.descriptor.to_json()]
