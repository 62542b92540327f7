"""The README's main job, `bash scripts/demo.sh`, works end to end."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUSYBOX = Path("/bin/busybox")  # scripts/make-busybox-image.sh builds the image from it


@pytest.mark.integration
@pytest.mark.skipif(os.geteuid() != 0, reason="the demo runs the bundle only as root")
@pytest.mark.skipif(not BUSYBOX.exists(), reason=f"busybox-static is not installed ({BUSYBOX})")
def test_demo_builds_validates_unpacks_and_runs_the_busybox_image(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        env={**os.environ, "DEMO_DIR": str(demo)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"{demo}/layout:busybox: ok" in result.stdout
    assert "hello from busybox, pid 1, host porter-demo" in result.stdout
    assert (demo / "bundle" / "rootfs" / "bin" / "busybox").is_file()
