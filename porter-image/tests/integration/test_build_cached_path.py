"""A fully cached rebuild does only what a cache hit needs: it loads neither the container,
copy, layer-writing nor registry code, and writes nothing into the layout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, build_ok, write_context

pytestmark = [pytest.mark.integration, NEEDS_ROOT]

PROBE = """
import sys
from porter_image.cli.main import cli
try:
    cli(sys.argv[1:], prog_name="porter-image")
except SystemExit as exc:
    if exc.code:
        raise
print(" ".join(sorted(sys.modules)))
"""

# what only an uncached step, a FROM pulled from a registry or a new commit needs
NOT_FOR_A_CACHE_HIT = {
    "subprocess",
    "tempfile",
    "shutil",
    "porter_image.build.run_container",
    "porter_image.build.rootfs",
    "porter_image.build.copier",
    "porter_image.build.fetch",
    "porter_image.build.upper_layer",
    "porter_image.snapshots",
    "porter_image.layer.tar_writer",
    "porter_image.layer.compression",
    "porter_image.exec_user",
    "porter_image.copy",
    "porter_image.distribution.client",
    "porter_specs.validate",
    "porter_specs.runtime_config",
    "requests",
    "jsonschema",
    "zstandard",
}


@pytest.fixture
def built(busybox_image: tuple[Path, str], tmp_path: Path) -> tuple[Path, Path]:
    """A layout with the busybox image and a build of a FROM, RUN, COPY, CMD Dockerfile."""
    layout = tmp_path / "layout"
    shutil.copytree(busybox_image[0], layout)
    ctx = write_context(
        tmp_path / "context",
        {
            "Dockerfile": 'FROM busybox\nRUN echo built > /built\nCOPY src/ /app/\nCMD ["sh"]\n',
            "src/a.txt": "a",
            "src/b.txt": "b",
        },
    )
    build_ok(layout, ctx)
    return layout, ctx


def cached_build_modules(layout: Path, ctx: Path) -> set[str]:
    args = ["build", "-q", "-t", f"{layout}:out", str(ctx)]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.splitlines()[-1].split())


def test_a_cached_rebuild_loads_no_container_copy_layer_or_registry_code(
    built: tuple[Path, Path],
) -> None:
    loaded = cached_build_modules(*built)
    assert "porter_image.build.run_step" in loaded  # the RUN step's key was computed
    assert NOT_FOR_A_CACHE_HIT & loaded == set()


def test_a_cached_rebuild_writes_nothing_into_the_layout(built: tuple[Path, Path]) -> None:
    layout, ctx = built

    def state() -> list[tuple[str, int, int]]:
        return sorted(
            (str(path.relative_to(layout)), path.stat().st_ino, path.stat().st_mtime_ns)
            for path in layout.rglob("*")
            if not path.is_symlink()
        )

    before = state()
    build_ok(layout, ctx)
    assert state() == before
    assert not os.listdir(layout / "porter-build" / "tmp")
