"""skopeo (Debian's) reads and copies the layouts porter-image writes, and we read its copies."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from image_host_features import missing_program, needs
from image_test_support import PORTER_IMAGE
from porter_image.layer import tree_digest
from porter_image.layout import Layout, check_layout

pytestmark = [
    pytest.mark.integration,
    needs(missing_program("skopeo")),
]


def skopeo(*args: object) -> str:
    result = subprocess.run(
        ["skopeo", "--insecure-policy", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def porter(*args: object) -> None:
    result = subprocess.run(
        [str(PORTER_IMAGE), *map(str, args)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_skopeo_inspect_reads_our_layout(busybox_image: tuple[Path, str]) -> None:
    layout, tag = busybox_image
    info = json.loads(skopeo("inspect", f"oci:{layout}:{tag}"))
    assert info["Digest"] == str(Layout.open(layout).resolve(tag).digest)
    assert info["Os"] == "linux" and len(info["Layers"]) == 1


def test_skopeo_inspect_config_matches_ours(busybox_image: tuple[Path, str]) -> None:
    layout, tag = busybox_image
    config = json.loads(skopeo("inspect", "--config", f"oci:{layout}:{tag}"))
    assert config["config"]["Cmd"] == ["sh"]


def test_skopeo_copy_between_our_layouts_keeps_the_digest(
    busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    skopeo("copy", f"oci:{layout}:{tag}", f"oci:{tmp_path / 'copy'}:copied")
    copied = Layout.open(tmp_path / "copy")
    assert copied.resolve("copied").digest == Layout.open(layout).resolve(tag).digest
    assert check_layout(copied) == []


def test_we_unpack_what_skopeo_copied_to_the_same_tree(
    busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    skopeo("copy", f"oci:{layout}:{tag}", f"oci:{tmp_path / 'copy'}:copied")
    porter("unpack", f"{layout}:{tag}", tmp_path / "a")
    porter("unpack", f"{tmp_path / 'copy'}:copied", tmp_path / "b")
    assert tree_digest(tmp_path / "a" / "rootfs") == tree_digest(tmp_path / "b" / "rootfs")


def test_skopeo_copy_of_a_zstd_image(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "file").write_text("zstd\n")
    porter("import", "--compression", "zstd", tmp_path / "tree", f"{tmp_path / 'l'}:z")
    skopeo("copy", f"oci:{tmp_path / 'l'}:z", f"oci:{tmp_path / 'copy'}:z")
    assert check_layout(Layout.open(tmp_path / "copy")) == []


def test_an_untagged_copy_lists_the_manifest_as_skopeo_does(
    busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    porter("copy", "-q", f"oci:{layout}:{tag}", f"oci:{tmp_path / 'ours'}")
    skopeo("copy", f"oci:{layout}:{tag}", f"oci:{tmp_path / 'theirs'}")
    ours = json.loads((tmp_path / "ours" / "index.json").read_bytes())
    theirs = json.loads((tmp_path / "theirs" / "index.json").read_bytes())
    assert ours["manifests"] == theirs["manifests"]


def test_skopeo_reads_our_untagged_copy_back(
    busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    digest = Layout.open(layout).resolve(tag).digest
    porter("copy", "-q", f"oci:{layout}:{tag}", f"oci:{tmp_path / 'ours'}")
    assert json.loads(skopeo("inspect", f"oci:{tmp_path / 'ours'}"))["Digest"] == str(digest)
    skopeo("copy", f"oci:{tmp_path / 'ours'}", f"oci:{tmp_path / 'back'}:back")
    assert Layout.open(tmp_path / "back").resolve("back").digest == digest
