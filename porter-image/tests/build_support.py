"""Helpers of the builder's integration tests: a context, a build through the command line,
and the built image read back (its rootfs unpacked, its config)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from image_test_support import PORTER_IMAGE
from porter_image.image import load_image
from porter_image.layout import Layout

# The snapshots under a build hold whiteout devices and RUN mounts an overlay: root only.
NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="the builder mounts overlays: root")


def write_context(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return folder


def run_build(
    layout: Path,
    context: Path,
    *args: str,
    tag: str = "out",
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    quiet: bool = True,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`porter-image build [-q] -t LAYOUT:TAG ARGS CONTEXT` (LAYOUT relative to `cwd` when
    that is given); `stdin` is sent as bytes, the output read back as text."""
    command = [str(PORTER_IMAGE), "build", *["-q"] * quiet, "-t", f"{layout}:{tag}"]
    result = subprocess.run(
        [*command, *args, str(context)],
        capture_output=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        input=stdin,
        cwd=cwd,
    )
    stdout, stderr = (out.decode("utf-8", "replace") for out in (result.stdout, result.stderr))
    return subprocess.CompletedProcess(result.args, result.returncode, stdout, stderr)


def build_ok(layout: Path, context: Path, *args: str, **kwargs: Any) -> str:
    result = run_build(layout, context, *args, **kwargs)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def unpack(layout: Path, tag: str, into: Path) -> Path:
    """The image's rootfs, unpacked by porter-image unpack."""
    bundle = into / f"bundle-{tag}"
    shutil.rmtree(bundle, ignore_errors=True)
    subprocess.run(
        [str(PORTER_IMAGE), "unpack", f"{layout}:{tag}", str(bundle)],
        check=True,
        capture_output=True,
    )
    return bundle / "rootfs"


def image_config(layout: Path, tag: str = "out") -> dict[str, Any]:
    return load_image(Layout.open(layout), tag).config_json


def interrupted_build(layout: Path, context: Path, *args: str) -> tuple[int, str]:
    """`porter-image build -t LAYOUT:out ARGS CONTEXT` sent SIGINT (as Ctrl-C sends it, to
    its process group) once its first RUN is running: its exit status and stderr."""
    command = [str(PORTER_IMAGE), "build", "-t", f"{layout}:out", *args, str(context)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while not overlay_mounts_below(layout) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr.decode("utf-8", "replace")


def overlay_mounts_below(folder: Path) -> list[str]:
    with open("/proc/self/mountinfo") as mounts:
        return [line for line in mounts if str(folder) in line]


def build_cgroups() -> set[str]:
    """The cgroups of RUN containers (`porter-build-*`) present now, in every hierarchy."""
    root = Path("/sys/fs/cgroup")
    found = set()
    for pattern in ("porter-build-*", "*/porter-build-*", "*/*/porter-build-*"):
        found |= {str(path) for path in root.glob(pattern)}
    return found
