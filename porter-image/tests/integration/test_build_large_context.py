"""porter-image build over a context of 200,000 files: the build streams it, so the builder's
peak memory is that of a build over a small context, give or take what does not grow with
the files (the issue's "a context of a million files streams without loading it whole")."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, write_context
from image_test_support import PORTER_IMAGE
from porter_image.image import load_image
from porter_image.layout import Layout

pytestmark = [pytest.mark.integration, NEEDS_ROOT]

ONE_FOLDER = 100_000  # more than sorted_names sorts in memory: its runs are merged
FOLDERS, PER_FOLDER = 1_000, 100
# what a build over the large context may use beyond one over a small one: before the walk,
# the copy and the removal streamed, these 200,000 files took 20 MB more (a million, five
# times that); now they take about 1 MB
ALLOWED_GROWTH_MB = 10

DOCKERFILE = "FROM busybox\nCOPY . /ctx/\n"


def make_large_context(folder: Path) -> None:
    flat = folder / "flat"
    flat.mkdir(parents=True)
    for i in range(ONE_FOLDER):
        (flat / f"f{i:06d}").write_bytes(b"x")
    for d in range(FOLDERS):
        sub = folder / "tree" / f"d{d:04d}"
        sub.mkdir(parents=True)
        for i in range(PER_FOLDER):
            (sub / f"g{i:03d}").write_bytes(b"y")
    write_context(folder, {"Dockerfile": DOCKERFILE})


def build_peak_rss_mb(layout: Path, context: Path) -> int:
    """Build `context` into `layout:out`; the builder process's peak RSS (ru_maxrss), in MB."""
    process = subprocess.Popen(
        [str(PORTER_IMAGE), "build", "-q", "-t", f"{layout}:out", str(context)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, errors.decode()
    return usage.ru_maxrss // 1024


def copied_names(layout: Path) -> set[str]:
    """The paths of the image's last layer (the COPY's), read as a stream."""
    image = load_image(Layout.open(layout), "out")
    digest = image.manifest.layers[-1].digest
    with tarfile.open(layout / "blobs" / digest.algorithm / digest.encoded, "r|*") as tar:
        return {member.name.removeprefix("./") for member in tar}


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Path]:
    """A folder on /dev/shm (a tmpfs) when the host has one: making, copying and removing
    200,000 files on a disk takes minutes, on a tmpfs seconds. Removed after the test."""
    if not os.access("/dev/shm", os.W_OK):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="porter-test-large-context-", dir="/dev/shm"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_build_over_200000_files_uses_the_memory_of_a_build_over_a_few(
    busybox_image: tuple[Path, str], work: Path
) -> None:
    small, large = work / "small", work / "large"
    write_context(small, {"Dockerfile": DOCKERFILE, "flat/f000000": "x", "tree/d0000/g000": "y"})
    make_large_context(large)
    layouts = []
    for name in ("small-layout", "large-layout"):
        layout = work / name
        subprocess.run(["cp", "-a", str(busybox_image[0]), str(layout)], check=True)
        layouts.append(layout)

    baseline = build_peak_rss_mb(layouts[0], small)
    peak = build_peak_rss_mb(layouts[1], large)

    names = copied_names(layouts[1])
    assert {"ctx/flat/f000000", "ctx/flat/f099999", "ctx/tree/d0999/g099"} <= names
    assert len([name for name in names if name.startswith("ctx/flat/f")]) == ONE_FOLDER
    assert len([name for name in names if name.startswith("ctx/tree/d")]) == (
        FOLDERS * (PER_FOLDER + 1)
    )
    assert peak - baseline <= ALLOWED_GROWTH_MB, (baseline, peak)
