"""Images from porter-image build in other tools' hands: umoci and skopeo read them, and they
run under porter-runtime and runc."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, build_ok, write_context
from image_host_features import missing_program, needs
from image_test_support import PORTER_IMAGE, REPO

pytestmark = [pytest.mark.integration, NEEDS_ROOT]

DOCKERFILE = """\
FROM busybox
COPY hello /srv/hello
RUN rm /bin/ls && mkdir /made && echo run > /made/file
WORKDIR /srv
CMD ["cat", "hello", "/made/file"]
"""


@pytest.fixture(scope="module")
def built(busybox_image: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A layout holding the image `out` built from DOCKERFILE."""
    folder = tmp_path_factory.mktemp("interop")
    layout = folder / "layout"
    shutil.copytree(busybox_image[0], layout)
    context = write_context(folder / "context", {"Dockerfile": DOCKERFILE, "hello": "hi\n"})
    build_ok(layout, context)
    return layout


def _run_bundle(runtime: str, layout: Path, tmp_path: Path) -> str:
    bundle = tmp_path / "bundle"
    subprocess.run(
        [str(PORTER_IMAGE), "unpack", f"{layout}:out", str(bundle)], check=True, timeout=120
    )
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    (bundle / "config.json").write_text(json.dumps(config))
    state = tmp_path / "state"
    ident = f"build-interop-{uuid.uuid4().hex[:8]}"
    try:
        result = subprocess.run(
            [runtime, "--root", str(state), "run", "--bundle", str(bundle), ident],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    finally:
        subprocess.run([runtime, "--root", str(state), "delete", "--force", ident], check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_image_runs_under_porter_runtime(built: Path, tmp_path: Path) -> None:
    runtime = str(REPO / ".venv" / "bin" / "porter-runtime")
    assert _run_bundle(runtime, built, tmp_path) == "hi\nrun\n"


@needs(missing_program("runc"))
def test_the_image_runs_under_runc(built: Path, tmp_path: Path) -> None:
    assert _run_bundle("runc", built, tmp_path) == "hi\nrun\n"


@needs(missing_program("umoci"))
def test_umoci_unpacks_the_image_with_its_whiteouts_applied(built: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "umoci"
    subprocess.run(
        ["umoci", "unpack", "--image", f"{built}:out", str(bundle)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    rootfs = bundle / "rootfs"
    assert (rootfs / "srv" / "hello").read_text() == "hi\n"
    assert (rootfs / "made" / "file").read_text() == "run\n"
    assert not (rootfs / "bin" / "ls").exists()
    assert (rootfs / "bin" / "cat").exists()


@needs(missing_program("skopeo"))
def test_skopeo_reads_the_config(built: Path) -> None:
    result = subprocess.run(
        ["skopeo", "--insecure-policy", "inspect", "--config", f"oci:{built}:out"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    config = json.loads(result.stdout)["config"]
    assert (config["Cmd"], config["WorkingDir"]) == (["cat", "hello", "/made/file"], "/srv")
