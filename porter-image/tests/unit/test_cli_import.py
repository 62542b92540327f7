"""`porter-image import`: one-layer images from directories and tarballs."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from image_test_support import snapshot, tar_bytes
from porter_image.cli.main import cli
from porter_image.image import load_image
from porter_image.layout import Layout, check_layout
from porter_specs import media_types


def run(*args: object, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("porter\n")
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "bin" / "tool").chmod(0o755)
    (root / "bin" / "link").symlink_to("tool")
    return root


def test_import_creates_layout_and_tag(tmp_path: Path, tree: Path) -> None:
    result = run("import", tree, f"{tmp_path}/l:v1")
    assert result.exit_code == 0, result.output
    layout = Layout.open(tmp_path / "l")
    assert result.output.strip() == str(layout.resolve("v1").digest)
    assert check_layout(layout) == []


def test_import_config_has_diff_id_history_and_host_platform(tmp_path: Path, tree: Path) -> None:
    run("import", tree, f"{tmp_path}/l:v1")
    image = load_image(Layout.open(tmp_path / "l"), "v1")
    assert len(image.config.diff_ids) == 1 and len(image.manifest.layers) == 1
    assert image.config_json["history"][0]["created_by"] == "porter-image import"
    assert image.config.os == "linux"


@pytest.mark.parametrize(
    "compression, media_type",
    [
        ("gzip", media_types.LAYER_TAR_GZIP),
        ("zstd", media_types.LAYER_TAR_ZSTD),
        ("none", media_types.LAYER_TAR),
    ],
)
def test_import_compression_sets_layer_media_type(
    tmp_path: Path, tree: Path, compression: str, media_type: str
) -> None:
    assert run("import", "--compression", compression, tree, f"{tmp_path}/l:v1").exit_code == 0
    image = load_image(Layout.open(tmp_path / "l"), "v1")
    assert image.manifest.layers[0].media_type == media_type


def test_reproducible_imports_of_one_tree_have_one_digest(tmp_path: Path, tree: Path) -> None:
    first = run("import", "--reproducible", tree, f"{tmp_path}/a:v1").output
    (tree / "etc" / "hostname").touch()  # a new mtime must not matter
    second = run("import", "--reproducible", tree, f"{tmp_path}/b:v1").output
    assert first == second


def test_source_date_epoch_sets_created(tmp_path: Path, tree: Path) -> None:
    run("import", tree, f"{tmp_path}/l:v1", env={"SOURCE_DATE_EPOCH": "86400"})
    assert load_image(Layout.open(tmp_path / "l"), "v1").config.created == "1970-01-02T00:00:00Z"


def test_import_annotation_lands_on_the_manifest(tmp_path: Path, tree: Path) -> None:
    run("import", "--annotation", "org.example.k=v", tree, f"{tmp_path}/l:v1")
    image = load_image(Layout.open(tmp_path / "l"), "v1")
    assert image.manifest.annotations == {"org.example.k": "v"}


def test_import_of_a_tarball(tmp_path: Path) -> None:
    (tmp_path / "in.tar").write_bytes(tar_bytes({"a.txt": b"a"}))
    assert run("import", tmp_path / "in.tar", f"{tmp_path}/l:v1").exit_code == 0
    assert len(load_image(Layout.open(tmp_path / "l"), "v1").manifest.layers) == 1


def test_import_of_a_gzipped_tarball(tmp_path: Path) -> None:
    (tmp_path / "in.tar.gz").write_bytes(gzip.compress(tar_bytes({"a.txt": b"a"})))
    plain = tmp_path / "in.tar"
    plain.write_bytes(tar_bytes({"a.txt": b"a"}))
    run("import", plain, f"{tmp_path}/l:plain")
    assert run("import", tmp_path / "in.tar.gz", f"{tmp_path}/l:gz").exit_code == 0
    layout = Layout.open(tmp_path / "l")
    assert load_image(layout, "gz").config.diff_ids == load_image(layout, "plain").config.diff_ids


def test_import_of_a_truncated_gzip_tarball_leaves_layout_unchanged(
    tmp_path: Path, image_layout: Layout
) -> None:
    data = gzip.compress(tar_bytes({"a.txt": b"a" * 100000}))
    (tmp_path / "in.tar.gz").write_bytes(data[: len(data) // 2])
    before = snapshot(image_layout.path)
    result = run("import", tmp_path / "in.tar.gz", f"{image_layout.path}:v2")
    assert result.exit_code != 0
    assert result.stderr.startswith("porter-image: error: ") and result.stderr.count("\n") == 1
    assert snapshot(image_layout.path) == before


def test_import_of_a_truncated_tarball_leaves_layout_unchanged(
    tmp_path: Path, image_layout: Layout
) -> None:
    data = tar_bytes({"a.txt": b"a" * 100000})
    (tmp_path / "in.tar").write_bytes(data[:5000])
    before = snapshot(image_layout.path)
    result = run("import", tmp_path / "in.tar", f"{image_layout.path}:v2")
    assert result.exit_code != 0 and result.stderr.startswith("porter-image: error: ")
    assert snapshot(image_layout.path) == before


def test_failed_import_into_a_new_layout_does_not_create_it(tmp_path: Path) -> None:
    (tmp_path / "in.tar").write_bytes(b"this is not a tar archive" * 100)
    result = run("import", tmp_path / "in.tar", f"{tmp_path}/new:v1")
    assert result.exit_code != 0
    assert not (tmp_path / "new").exists()


def test_import_of_missing_source_fails(tmp_path: Path) -> None:
    result = run("import", tmp_path / "missing", f"{tmp_path}/l:v1")
    assert result.exit_code == 1 and "no such file or directory" in result.stderr
    assert not (tmp_path / "l").exists()


def test_import_with_invalid_tag_fails_before_writing(tmp_path: Path, tree: Path) -> None:
    result = run("import", tree, f"{tmp_path}/l:-x")
    assert result.exit_code == 1 and "invalid tag" in result.stderr
    assert not (tmp_path / "l").exists()


def test_import_keeps_the_tree_in_the_layer(tmp_path: Path, tree: Path) -> None:
    run("import", "--compression", "none", tree, f"{tmp_path}/l:v1")
    layout = Layout.open(tmp_path / "l")
    layer = load_image(layout, "v1").manifest.layers[0]
    with tarfile.open(fileobj=io.BytesIO(layout.blob_path(layer.digest).read_bytes())) as tar:
        names = {m.name.rstrip("/").removeprefix("./") for m in tar.getmembers()}
    assert {"etc/hostname", "bin/tool", "bin/link"} <= names


def test_import_progress_goes_to_stderr(tmp_path: Path, tree: Path) -> None:
    result = run("import", "--progress", tree, f"{tmp_path}/l:v1")
    assert result.exit_code == 0 and "import " in result.stderr
    assert result.stdout.startswith("sha256:")
