"""docker-archive: the tar docker save writes and docker load reads, to and from a layout."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from porter_image.docker_archive import SavedImage, read_docker_archive, write_docker_archive
from porter_image.errors import ImageError
from porter_image.image import load_image
from porter_image.layer.testing import archive, file
from porter_image.layout import Layout
from porter_image.snapshots.testing import layered_image
from porter_specs.digest import from_bytes

LAYERS = [archive(file("a", b"1")), archive(file("b", b"2"))]


def _saved(tmp_path: Path) -> tuple[Layout, bytes]:
    layout = Layout.create(tmp_path / "source")
    layered_image(layout, "v1", LAYERS, {"Cmd": ["sh"]})
    out = io.BytesIO()
    write_docker_archive(layout, [SavedImage(load_image(layout, "v1"), ("busybox:v1",))], out)
    return layout, out.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def _load(data: bytes, tmp_path: Path) -> tuple[Layout, list]:
    target = Layout.create(tmp_path / "target")
    loaded = read_docker_archive(io.BytesIO(data), target, tmp_path / "spool", lambda i: f"t{i}")
    return target, loaded


def test_a_save_is_an_oci_layout_with_dockers_manifest(tmp_path: Path) -> None:
    layout, data = _saved(tmp_path)
    members = _members(data)
    image = load_image(layout, "v1")
    (entry,) = json.loads(members["manifest.json"])
    assert entry["RepoTags"] == ["busybox:v1"]
    assert entry["Config"] == f"blobs/sha256/{image.manifest.config.digest.encoded}"
    assert entry["Layers"] == [
        f"blobs/sha256/{layer.digest.encoded}" for layer in image.manifest.layers
    ]
    assert json.loads(members["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(members["index.json"])
    assert index["manifests"][0]["digest"] == str(image.descriptor.digest)
    assert json.loads(members["repositories"]) == {
        "busybox": {"v1": image.manifest.layers[-1].digest.encoded}
    }


def test_a_saved_image_loads_with_the_same_config_and_names(tmp_path: Path) -> None:
    layout, data = _saved(tmp_path)
    target, loaded = _load(data, tmp_path)
    assert [image.repo_tags for image in loaded] == [("busybox:v1",)]
    again = load_image(target, loaded[0].tag)
    assert again.manifest.config.digest == load_image(layout, "v1").manifest.config.digest
    assert target.fsck() == []


def _legacy(
    layers: list[bytes], compress: bool = False, replaced: dict[str, bytes] | None = None
) -> bytes:
    """The format docker wrote before 25: `<id>/layer.tar` and `<config hex>.json`."""
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [str(from_bytes(layer)) for layer in layers]},
    }
    config_data = json.dumps(config).encode()
    files = {f"{from_bytes(config_data).encoded}.json": config_data}
    paths = []
    for i, layer in enumerate(layers):
        files[f"l{i}/layer.tar"] = gzip.compress(layer) if compress else layer
        paths.append(f"l{i}/layer.tar")
    entry = {"Config": next(iter(files)), "RepoTags": None, "Layers": paths}
    files["manifest.json"] = json.dumps([entry]).encode()
    files.update(replaced or {})
    return archive(*(file(name, data) for name, data in files.items()))


@pytest.mark.parametrize("compress", [False, True])
def test_the_legacy_format_loads_with_plain_or_gzip_layers(tmp_path: Path, compress: bool) -> None:
    target, loaded = _load(_legacy(LAYERS, compress), tmp_path)
    image = load_image(target, loaded[0].tag)
    assert image.config.diff_ids == tuple(from_bytes(layer) for layer in LAYERS)
    assert loaded[0].repo_tags == ()


def test_a_layer_that_is_not_its_diff_id_is_refused(tmp_path: Path) -> None:
    data = _legacy(LAYERS, replaced={"l0/layer.tar": archive(file("a", b"changed"))})
    with pytest.raises(ImageError, match="diff_id"):
        _load(data, tmp_path)


def test_something_that_is_not_a_tar_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not a readable tar"):
        _load(b"not a tar" * 100, tmp_path)


def test_a_tar_without_a_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"no manifest\.json"):
        _load(archive(file("x", b"1")), tmp_path)


def test_a_manifest_naming_a_missing_member_is_refused(tmp_path: Path) -> None:
    manifest = json.dumps([{"Config": "../../etc/passwd", "Layers": []}]).encode()
    with pytest.raises(ImageError, match="does not hold"):
        _load(archive(file("manifest.json", manifest)), tmp_path)


def test_the_spool_folder_is_removed_after_a_load(tmp_path: Path) -> None:
    _layout, data = _saved(tmp_path)
    _load(data, tmp_path)
    assert list((tmp_path / "spool").iterdir()) == []
