"""The Dockerfiles of build_corpus/ built with porter-image and with Debian's `buildah bud`
from the same busybox image: the final rootfs (files, types, modes, owners, contents, link
targets) and the config fields must be the same, but for the differences listed here with
their reasons (where buildah differs from docker, docker's behaviour is porter-image's)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, build_ok, unpack
from image_host_features import missing_program
from porter_image.image import load_image
from porter_image.layer.trees import tree_listing
from porter_image.layout import Layout

pytestmark = [
    pytest.mark.integration,
    NEEDS_ROOT,
    pytest.mark.skipif(bool(missing_program("buildah")), reason="buildah is not installed"),
]

CORPUS = Path(__file__).resolve().parents[1] / "build_corpus"
DOCKERFILES = sorted(p.name for p in CORPUS.glob("*.Dockerfile"))

# Paths only buildah's image has. With chroot isolation, buildah leaves the files it bind
# mounts into a RUN step (/etc/hostname, /etc/hosts, /etc/resolv.conf) in the layer as empty
# files when the base image has none; docker's builders never commit them.
BUILDAH_ONLY = {"etc/hostname", "etc/hosts", "etc/resolv.conf"}
# Labels only buildah's image has: buildah stamps its own version into every image.
BUILDAH_LABELS = {"io.buildah.version"}


@pytest.fixture(scope="module")
def workspace(busybox_image: tuple[Path, str]) -> Iterator[Path]:
    """A folder holding the base layout and the context, with the tar that ADD unpacks made
    here. buildah parses an oci: path as an image name, so every part of it must be one: no
    capitals, no trailing `_` (mkdtemp's names may end in one), hence a hex name in /tmp."""
    folder = Path("/tmp") / f"porter-buildah-{secrets.token_hex(6)}"
    folder.mkdir(mode=0o700)
    try:
        shutil.copytree(busybox_image[0], folder / "base")
        context = folder / "context"
        shutil.copytree(CORPUS / "context", context, symlinks=True)
        with tarfile.open(context / "files.tar", "w") as tar:
            for name in ("hello.txt", "run.sh"):
                tar.add(context / "files" / name, name)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _buildah(workspace: Path, *args: str) -> None:
    storage = ["--root", str(workspace / "root"), "--runroot", str(workspace / "runroot")]
    command = ["buildah", *storage, "--storage-driver", "vfs", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr


def _both(workspace: Path, dockerfile: str) -> tuple[Path, Path]:
    name = dockerfile.split(".")[0]
    base, context = workspace / "base", workspace / "context"
    build_ok(base, context, "-f", str(CORPUS / dockerfile), tag=name)
    _buildah(
        workspace,
        "bud",
        "--isolation",
        "chroot",
        "-f",
        str(CORPUS / dockerfile),
        "--build-arg",
        f"BASE=oci:{base}:busybox",
        "-t",
        f"localhost/{name}",
        str(context),
    )
    _buildah(workspace, "push", f"localhost/{name}", f"oci:{workspace / 'buildah'}:{name}")
    return base, workspace / "buildah"


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_same_rootfs_and_config_as_buildah(workspace: Path, dockerfile: str) -> None:
    name = dockerfile.split(".")[0]
    ours, theirs = _both(workspace, dockerfile)
    ours_tree = set(tree_listing(unpack(ours, name, workspace / "ours"), xattrs=False))
    theirs_tree = set(tree_listing(unpack(theirs, name, workspace / "theirs"), xattrs=False))
    assert sorted(ours_tree - theirs_tree) == []
    extra = {line.split("\t")[0] for line in theirs_tree - ours_tree}
    assert extra <= BUILDAH_ONLY
    ours_config = load_image(Layout.open(ours), name).config_json["config"]
    theirs_config = load_image(Layout.open(theirs), name).config_json["config"]
    labels = theirs_config.get("Labels") or {}
    theirs_config["Labels"] = {k: v for k, v in labels.items() if k not in BUILDAH_LABELS}
    ours_config.setdefault("Labels", {})
    assert ours_config == theirs_config
