"""`porter-image unpack` and `repack`: trees in, diffs out, bad layers refused."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from image_test_support import make_image, snapshot, tar_bytes
from porter_image.cli.main import cli
from porter_image.image import load_image
from porter_image.layer import read_listing, tree_digest
from porter_image.layout import Layout, check_layout
from porter_specs import media_types


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def imported(tmp_path: Path) -> Layout:
    """A layout with tag `base`, imported from a small tree."""
    root = tmp_path / "tree"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "motd").write_text("welcome\n")
    (root / "keep").write_text("keep\n")
    (root / "dir").mkdir()
    (root / "dir" / "inner").write_text("inner\n")
    assert run("import", root, f"{tmp_path}/l:base").exit_code == 0
    return Layout.open(tmp_path / "l")


def test_unpack_reproduces_the_imported_tree(tmp_path: Path, imported: Layout) -> None:
    result = run("unpack", f"{imported.path}:base", tmp_path / "b")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b" / "rootfs" / "etc" / "motd").read_text() == "welcome\n"
    assert tree_digest(tmp_path / "b" / "rootfs") == tree_digest(tmp_path / "tree")


def test_unpack_writes_a_record_of_the_manifest(tmp_path: Path, imported: Layout) -> None:
    run("unpack", f"{imported.path}:base", tmp_path / "b")
    record = json.loads((tmp_path / "b" / "porter-image.json").read_text())
    assert record["manifest"]["digest"] == str(imported.resolve("base").digest)
    assert record["listing"] == "porter-image.mtree.json.gz"


def test_unpack_lists_the_tree_instead_of_copying_it(tmp_path: Path, imported: Layout) -> None:
    run("unpack", f"{imported.path}:base", tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "config.json",
        "porter-image.json",
        "porter-image.mtree.json.gz",
        "rootfs",
    ]
    listed = [r.path for r in read_listing(tmp_path / "b" / "porter-image.mtree.json.gz")]
    assert listed == ["dir", "dir/inner", "etc", "etc/motd", "keep"]


def test_unpack_refuses_a_non_empty_directory(tmp_path: Path, imported: Layout) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("")
    result = run("unpack", f"{imported.path}:base", tmp_path / "b")
    assert result.exit_code == 1 and "is not empty" in result.stderr


def test_unpack_of_unknown_tag_exits_3_and_creates_nothing(
    tmp_path: Path, imported: Layout
) -> None:
    result = run("unpack", f"{imported.path}:nope", tmp_path / "b")
    assert result.exit_code == 3 and not (tmp_path / "b").exists()


def test_unpack_of_a_corrupt_layer_fails_and_removes_the_bundle(
    tmp_path: Path, imported: Layout
) -> None:
    layer = load_image(imported, "base").manifest.layers[0]
    path = imported.blob_path(layer.digest)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    before = snapshot(imported.path)
    result = run("unpack", f"{imported.path}:base", tmp_path / "b")
    assert (
        result.exit_code in (4, 5) and f"{layer.digest}" in result.stderr
    ) or "layer" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "b").exists()
    assert snapshot(imported.path) == before


def test_unpack_of_a_corrupt_uncompressed_layer_fails_on_its_digest(
    tmp_path: Path, layout: Layout
) -> None:
    make_image(layout, "v1", {"a": b"a" * 3000})
    path = layout.blob_path(load_image(layout, "v1").manifest.layers[0].digest)
    data = bytearray(path.read_bytes())
    data[600] ^= 0x01  # inside a's content: still a valid tar, but not the blob's bytes
    path.write_bytes(bytes(data))
    result = run("unpack", f"{layout.path}:v1", tmp_path / "b")
    assert result.exit_code == 4 and "digest" in result.stderr, result.stderr
    assert not (tmp_path / "b").exists()


def test_unpack_of_truncated_gzip_layer_is_refused(tmp_path: Path, layout: Layout) -> None:
    data = gzip.compress(tar_bytes({"big": b"x" * 200000}))
    make_image(
        layout, "v1", {"big": b"x" * 200000}, data[: len(data) // 2], media_types.LAYER_TAR_GZIP
    )
    result = run("unpack", f"{layout.path}:v1", tmp_path / "b")
    assert result.exit_code == 5, result.stderr
    assert result.stderr.startswith("porter-image: error: ") and not (tmp_path / "b").exists()


def test_unpack_of_a_layer_with_wrong_diff_id_is_refused(tmp_path: Path, layout: Layout) -> None:
    make_image(layout, "v1", {"a": b"a"}, tar_bytes({"b": b"b"}))
    result = run("unpack", f"{layout.path}:v1", tmp_path / "b")
    assert result.exit_code == 1 and "diff_id mismatch" in result.stderr


def test_unpack_of_a_missing_layer_exits_3(tmp_path: Path, imported: Layout) -> None:
    layer = load_image(imported, "base").manifest.layers[0]
    imported.blob_path(layer.digest).unlink()
    result = run("unpack", f"{imported.path}:base", tmp_path / "b")
    assert result.exit_code == 3 and f"blob {layer.digest} not found" in result.stderr


def _unpacked(tmp_path: Path, imported: Layout) -> Path:
    assert run("unpack", f"{imported.path}:base", tmp_path / "b").exit_code == 0
    return tmp_path / "b"


def test_repack_appends_one_layer_with_the_changes(tmp_path: Path, imported: Layout) -> None:
    bundle = _unpacked(tmp_path, imported)
    (bundle / "rootfs" / "new").write_text("new\n")
    (bundle / "rootfs" / "etc" / "motd").unlink()
    result = run("repack", f"{imported.path}:next", bundle)
    assert result.exit_code == 0, result.output
    image = load_image(imported, "next")
    assert len(image.manifest.layers) == 2 and len(image.config.diff_ids) == 2
    assert image.config_json["history"][-1]["created_by"] == "porter-image repack"
    assert check_layout(imported) == []


def test_repacked_image_unpacks_to_the_modified_tree(tmp_path: Path, imported: Layout) -> None:
    bundle = _unpacked(tmp_path, imported)
    (bundle / "rootfs" / "new").write_text("new\n")
    (bundle / "rootfs" / "etc" / "motd").unlink()
    run("repack", f"{imported.path}:next", bundle)
    assert run("unpack", f"{imported.path}:next", tmp_path / "c").exit_code == 0
    assert tree_digest(tmp_path / "c" / "rootfs") == tree_digest(bundle / "rootfs")


def test_repack_twice_adds_only_the_second_change(tmp_path: Path, imported: Layout) -> None:
    bundle = _unpacked(tmp_path, imported)
    (bundle / "rootfs" / "one").write_text("1")
    run("repack", f"{imported.path}:step1", bundle)
    (bundle / "rootfs" / "two").write_text("2")
    run("repack", f"{imported.path}:step2", bundle)
    step1 = load_image(imported, "step1")
    step2 = load_image(imported, "step2")
    assert step2.manifest.layers[:2] == step1.manifest.layers
    assert step2.manifest.layers[2].size < step1.manifest.layers[1].size + 200
    run("unpack", f"{imported.path}:step2", tmp_path / "c")
    assert tree_digest(tmp_path / "c" / "rootfs") == tree_digest(bundle / "rootfs")


def test_repack_of_a_directory_not_made_by_unpack_fails(tmp_path: Path, imported: Layout) -> None:
    (tmp_path / "x").mkdir()
    before = snapshot(imported.path)
    result = run("repack", f"{imported.path}:next", tmp_path / "x")
    assert result.exit_code == 1 and "not a directory made by porter-image unpack" in result.stderr
    assert snapshot(imported.path) == before


def test_repack_of_a_bundle_without_a_listing_fails(tmp_path: Path, imported: Layout) -> None:
    bundle = _unpacked(tmp_path, imported)
    record = json.loads((bundle / "porter-image.json").read_text())
    del record["listing"]  # as an older porter-image wrote it
    (bundle / "porter-image.json").write_text(json.dumps(record))
    before = snapshot(imported.path)
    result = run("repack", f"{imported.path}:next", bundle)
    assert result.exit_code == 1 and "has no listing of its tree" in result.stderr
    assert snapshot(imported.path) == before


def test_repack_with_a_corrupt_listing_fails_and_changes_nothing(
    tmp_path: Path, imported: Layout
) -> None:
    bundle = _unpacked(tmp_path, imported)
    (bundle / "porter-image.mtree.json.gz").write_bytes(b"garbage")
    before = snapshot(imported.path)
    result = run("repack", f"{imported.path}:next", bundle)
    assert result.exit_code != 0 and "listing" in result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot(imported.path) == before
    assert not list(bundle.glob(".porter-listing-*"))


def test_repack_moves_the_bundle_to_a_new_listing(tmp_path: Path, imported: Layout) -> None:
    bundle = _unpacked(tmp_path, imported)
    (bundle / "rootfs" / "new").write_text("new\n")
    run("repack", f"{imported.path}:next", bundle)
    record = json.loads((bundle / "porter-image.json").read_text())
    assert record["manifest"]["digest"] == str(imported.resolve("next").digest)
    listings = sorted(p.name for p in bundle.glob("porter-image.mtree*"))
    assert listings == [record["listing"]] and record["listing"] != "porter-image.mtree.json.gz"


def test_repack_no_refresh_keeps_the_old_listing(tmp_path: Path, imported: Layout) -> None:
    bundle = _unpacked(tmp_path, imported)
    (bundle / "rootfs" / "one").write_text("1")
    run("repack", "--no-refresh", f"{imported.path}:step1", bundle)
    run("repack", f"{imported.path}:again", bundle)
    step1, again = load_image(imported, "step1"), load_image(imported, "again")
    assert len(again.manifest.layers) == len(step1.manifest.layers) == 2


def test_repack_into_a_layout_without_the_base_image_fails(
    tmp_path: Path, imported: Layout
) -> None:
    bundle = _unpacked(tmp_path, imported)
    other = Layout.create(tmp_path / "other")
    result = run("repack", f"{other.path}:next", bundle)
    assert result.exit_code == 3 and "not found" in result.stderr
    assert other.tags() == []


def test_unpack_of_truncated_zstd_layer_is_refused(tmp_path: Path, layout: Layout) -> None:
    import zstandard

    files = {"big": bytes(range(256)) * 2000}
    data = zstandard.ZstdCompressor().compress(tar_bytes(files))
    make_image(layout, "v1", files, data[: len(data) // 2], media_types.LAYER_TAR_ZSTD)
    result = run("unpack", f"{layout.path}:v1", tmp_path / "b")
    assert result.exit_code == 5 and "zstd" in result.stderr
    assert not (tmp_path / "b").exists()


def test_unpack_progress_names_each_layer(tmp_path: Path, imported: Layout) -> None:
    result = run("unpack", "--progress", f"{imported.path}:base", tmp_path / "b")
    assert result.exit_code == 0 and "unpack layer 1/1" in result.stderr


def test_unpack_into_an_existing_empty_directory_keeps_it_on_failure(
    tmp_path: Path, layout: Layout
) -> None:
    make_image(layout, "v1", {"a": b"a"}, tar_bytes({"b": b"b"}))  # wrong diff_id
    (tmp_path / "b").mkdir()
    assert run("unpack", f"{layout.path}:v1", tmp_path / "b").exit_code == 1
    assert (tmp_path / "b").is_dir() and list((tmp_path / "b").iterdir()) == []
