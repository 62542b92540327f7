"""porter-image build's command line: how the layout, the context and the Dockerfile are
named, and the options that pick what a build pulls and builds for; each test reads the image
it built or the exact error line."""

from __future__ import annotations

from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, build_ok, unpack, write_context

pytestmark = [pytest.mark.integration, NEEDS_ROOT]


def test_a_layout_named_by_a_relative_path_runs_run_steps(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN echo ran > /r\n"})
    build_ok(Path(base.name), ctx, cwd=base.parent)
    assert (unpack(base, "out", tmp_path) / "r").read_text() == "ran\n"
