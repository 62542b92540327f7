"""oci-archive: and docker-archive:, written and read back, and docker-archives through podman."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest
from copy_test_support import make_index
from image_test_support import tar_bytes
from porter_image.copy import CopyOptions, copy_image
from porter_image.errors import ImageError, ImageRefError
from porter_image.image import load_image
from porter_image.layout import Layout


@pytest.fixture
def busybox(busybox_image: tuple[Path, str]) -> tuple[Layout, str]:
    layout, tag = busybox_image
    return Layout.open(layout), tag


def test_an_oci_archive_round_trip_keeps_the_manifest_digest(
    busybox: tuple[Layout, str], tmp_path: Path
) -> None:
    layout, tag = busybox
    copy_image(f"oci:{layout.path}:{tag}", f"oci-archive:{tmp_path / 'a.tar'}:v1")
    back = copy_image(f"oci-archive:{tmp_path / 'a.tar'}:v1", f"oci:{tmp_path / 'back'}:v1")
    assert back.digest == layout.resolve(tag).digest


def test_an_oci_archive_is_a_tar_of_a_layout(busybox: tuple[Layout, str], tmp_path: Path) -> None:
    layout, tag = busybox
    copy_image(f"oci:{layout.path}:{tag}", f"oci-archive:{tmp_path / 'a.tar'}:v1")
    with tarfile.open(tmp_path / "a.tar") as tar:
        tar.extractall(tmp_path / "x")  # our own archive, in a temp folder
    assert Layout.open(tmp_path / "x").tags() == ["v1"]


def test_a_docker_archive_keeps_config_and_layers(
    busybox: tuple[Layout, str], tmp_path: Path
) -> None:
    layout, tag = busybox
    archive = tmp_path / "d.tar"
    copy_image(f"oci:{layout.path}:{tag}", f"docker-archive:{archive}:localhost/busybox:1")
    copy_image(f"docker-archive:{archive}:localhost/busybox:1", f"oci:{tmp_path / 'back'}:v1")
    original = load_image(layout, tag)
    back = load_image(Layout.open(tmp_path / "back"), "v1")
    assert back.manifest.config.digest == original.manifest.config.digest
    assert back.manifest.layers == original.manifest.layers
    assert back.config.diff_ids == original.config.diff_ids


def test_a_docker_archive_names_its_image_in_repotags(
    busybox: tuple[Layout, str], tmp_path: Path
) -> None:
    layout, tag = busybox
    copy_image(f"oci:{layout.path}:{tag}", f"docker-archive:{tmp_path / 'd.tar'}:alice/app:2")
    with tarfile.open(tmp_path / "d.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["RepoTags"] == ["alice/app:2"]


def test_asking_a_docker_archive_for_an_image_it_lacks_is_refused(
    busybox: tuple[Layout, str], tmp_path: Path
) -> None:
    layout, tag = busybox
    copy_image(f"oci:{layout.path}:{tag}", f"docker-archive:{tmp_path / 'd.tar'}:alice/app:2")
    with pytest.raises(ImageRefError, match="holds no alice/app:3"):
        copy_image(f"docker-archive:{tmp_path / 'd.tar'}:alice/app:3", f"{tmp_path / 'o'}:x")
    assert not (tmp_path / "o").exists()


def test_a_docker_archive_member_outside_the_archive_is_not_read(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    entry = {"Config": "../../etc/passwd", "RepoTags": [], "Layers": []}
    with tarfile.open(archive, "w") as tar:
        data = json.dumps([entry]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ImageRefError, match=r"'\.\./\.\./etc/passwd', which it does not hold"):
        copy_image(f"docker-archive:{archive}", f"{tmp_path / 'o'}:x")


def test_a_failed_archive_write_leaves_no_file(tmp_path: Path) -> None:
    layout = Layout.create(tmp_path / "multi")
    make_index(layout, "multi")
    with pytest.raises(ImageError, match="one image"):
        copy_image(
            f"{layout.path}:multi",
            f"docker-archive:{tmp_path / 'd.tar'}",
            CopyOptions(all_platforms=True),
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["multi"]


def test_a_truncated_archive_is_refused(tmp_path: Path) -> None:
    (tmp_path / "t.tar").write_bytes(tar_bytes({"index.json": b"{}"})[:700])
    with pytest.raises(ImageRefError):
        copy_image(f"oci-archive:{tmp_path / 't.tar'}", f"{tmp_path / 'o'}:x")


# -- podman -----------------------------------------------------------------------------------


@pytest.fixture
def podman(tmp_path: Path):  # type: ignore[no-untyped-def]
    """podman with a storage of the test's own (vfs), or a skip saying why not."""
    binary = shutil.which("podman")
    if binary is None:
        pytest.skip("podman is not installed")
    root = Path(f"/tmp/pp-{uuid.uuid4().hex[:8]}")  # podman wants a short runroot
    base = [
        binary,
        "--root", str(root / "root"),
        "--runroot", str(root / "run"),
        "--storage-driver", "vfs",
        "--cgroup-manager", "cgroupfs",
        "--events-backend", "none",
    ]  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=300)

    probe = run("images")
    if probe.returncode != 0:
        pytest.skip(f"podman cannot run here: {probe.stderr.strip()[:200]}")
    yield run
    run("rmi", "--all", "--force")
    subprocess.run(["rm", "-rf", str(root)], check=False)


def test_podman_loads_a_docker_archive_and_its_save_copies_back(
    podman, busybox: tuple[Layout, str], tmp_path: Path
) -> None:
    layout, tag = busybox
    archive = tmp_path / "d.tar"
    copy_image(f"oci:{layout.path}:{tag}", f"docker-archive:{archive}:localhost/porter-bb:1")
    loaded = podman("load", "-i", str(archive))
    assert loaded.returncode == 0, loaded.stderr
    saved = tmp_path / "saved.tar"
    result = podman("save", "--format", "docker-archive", "-o", str(saved), "localhost/porter-bb:1")
    assert result.returncode == 0, result.stderr
    copy_image(f"docker-archive:{saved}", f"oci:{tmp_path / 'back'}:v1")
    back = load_image(Layout.open(tmp_path / "back"), "v1")
    assert back.config.diff_ids == load_image(layout, tag).config.diff_ids
