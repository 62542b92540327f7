"""The store's layout and its saves read by skopeo and umoci from Debian."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from image_support import add_image, new_store

pytestmark = pytest.mark.integration
BUSYBOX = "docker.io/library/busybox:latest"


def _run(*argv: str) -> str:
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_skopeo_reads_the_stores_layout_by_full_reference(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    stored = add_image(store, [BUSYBOX])
    raw = _run("skopeo", "inspect", "--raw", f"oci:{store.layout_path}:{BUSYBOX}")
    assert json.loads(raw)["config"]["digest"] == stored.id


def test_umoci_lists_the_stores_names(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    add_image(store, [BUSYBOX, "localhost:5000/team/app:v1"])
    listed = _run("umoci", "ls", "--layout", str(store.layout_path)).split()
    assert sorted(listed) == [BUSYBOX, "localhost:5000/team/app:v1"]


@pytest.mark.parametrize("transport", ["docker-archive", "oci-archive"])
def test_skopeo_reads_a_save_as_either_archive(tmp_path: Path, transport: str) -> None:
    store = new_store(tmp_path)
    stored = add_image(store, [BUSYBOX])
    with open(tmp_path / "save.tar", "wb") as out:
        store.save(["busybox"], out)
    config = json.loads(_run("skopeo", "inspect", "--config", f"{transport}:{tmp_path}/save.tar"))
    assert config["rootfs"]["diff_ids"] == [str(d) for d in stored.diff_ids]
