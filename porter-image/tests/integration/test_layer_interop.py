"""Layers against the real peers: GNU tar and umoci read ours, we read theirs, trees match."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from image_host_features import missing_program, missing_user_xattrs, needs, skip_unless
from porter_image.layer import apply_layer, tree_digest, write_layer
from porter_specs import media_types

pytestmark = pytest.mark.integration

IS_ROOT = os.geteuid() == 0


def _run(*args: object, cwd: Path | None = None) -> None:
    subprocess.run([str(a) for a in args], check=True, capture_output=True, timeout=120, cwd=cwd)


def _rich_tree(root: Path) -> Path:
    """A tree with every kind of entry a rootfs holds."""
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "tool").write_bytes(os.urandom(200_000))
    os.chmod(root / "usr" / "bin" / "tool", 0o4755)
    os.link(root / "usr" / "bin" / "tool", root / "usr" / "bin" / "tool-alias")
    (root / "bin").symlink_to("usr/bin")
    (root / "etc").mkdir(mode=0o750)
    (root / "etc" / "motd").write_text("welcome\n")
    (root / "etc" / ("long-name-" * 15)).write_text("long\n")
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)
    os.mkfifo(root / "etc" / "pipe")
    skip_unless(missing_user_xattrs(root))
    os.setxattr(root / "etc" / "motd", "user.origin", b"porter")
    if IS_ROOT:
        os.mknod(root / "null", 0o666 | 0o020000, os.makedev(1, 3))
        os.chown(root / "etc" / "motd", 1000, 1000)
    for path in sorted(root.rglob("*"), reverse=True):
        os.utime(path, (1_600_000_000, 1_600_000_000), follow_symlinks=False)
    return root


def test_gnu_tar_extracts_our_layer_to_the_same_tree(tmp_path: Path) -> None:
    src = _rich_tree(tmp_path / "src")
    layer = tmp_path / "layer.tar.gz"
    with open(layer, "wb") as out:
        write_layer(src, out, "gzip")
    (tmp_path / "tar").mkdir()
    _run("tar", "--xattrs", "--xattrs-include=*", "-xzpf", layer, "-C", tmp_path / "tar")
    assert tree_digest(tmp_path / "tar", mtimes=True) == tree_digest(src, mtimes=True)


def test_we_apply_a_gnu_tar_archive_to_the_same_tree(tmp_path: Path) -> None:
    src = _rich_tree(tmp_path / "src")
    layer = tmp_path / "gnu.tar"
    _run("tar", "--format=pax", "--xattrs", "--xattrs-include=*", "-cf", layer, "-C", src, ".")
    with open(layer, "rb") as stream:
        apply_layer(stream, media_types.LAYER_TAR, tmp_path / "ours")
    assert tree_digest(tmp_path / "ours", mtimes=True) == tree_digest(src, mtimes=True)


def _umoci_layer(layout: Path, tag: str) -> tuple[Path, str]:
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = next(
        m["digest"]
        for m in index["manifests"]
        if m["annotations"]["org.opencontainers.image.ref.name"] == tag
    )
    manifest = json.loads((layout / "blobs" / manifest_digest.replace(":", "/")).read_text())
    (layer,) = manifest["layers"]
    return layout / "blobs" / layer["digest"].replace(":", "/"), layer["mediaType"]


@needs(missing_program("umoci"))
def test_we_apply_a_umoci_layer_to_the_tree_umoci_unpacks(tmp_path: Path) -> None:
    src = _rich_tree(tmp_path / "src")
    layout = tmp_path / "layout"
    _run("umoci", "init", "--layout", layout)
    _run("umoci", "new", "--image", f"{layout}:t")
    bundle = tmp_path / "bundle"
    rootless = [] if IS_ROOT else ["--rootless"]
    _run("umoci", "unpack", *rootless, "--image", f"{layout}:t", bundle)
    shutil.rmtree(bundle / "rootfs")
    _run("cp", "-a", src, bundle / "rootfs")
    _run("umoci", "repack", "--image", f"{layout}:t", bundle)
    blob, media_type = _umoci_layer(layout, "t")
    _run("umoci", "unpack", *rootless, "--image", f"{layout}:t", tmp_path / "theirs")
    with open(blob, "rb") as stream:
        apply_layer(stream, media_type, tmp_path / "ours")
    assert tree_digest(tmp_path / "ours") == tree_digest(tmp_path / "theirs" / "rootfs")
    assert tree_digest(tmp_path / "ours") == tree_digest(src)


def test_layer_digest_is_the_same_in_a_fresh_process(tmp_path: Path) -> None:
    src = _rich_tree(tmp_path / "src")
    here = write_layer(src, io.BytesIO(), "gzip")
    code = (
        "import io, sys; from pathlib import Path; from porter_image.layer import write_layer;"
        "print(write_layer(Path(sys.argv[1]), io.BytesIO(), 'gzip').digest)"
    )
    python = Path(os.sys.executable)
    there = subprocess.run(
        [python, "-c", code, src], capture_output=True, text=True, check=True, timeout=60
    )
    assert there.stdout.strip() == str(here.digest)
