"""porter-image build: what a RUN step sees, keeps in its layer and is cached by; each test
reads the image it built."""

from __future__ import annotations

from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, build_ok, unpack, write_context

pytestmark = [pytest.mark.integration, NEEDS_ROOT]


def test_a_changed_shebang_heredoc_script_is_run_again(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    script = "FROM busybox\nRUN <<EOF\n#!/bin/sh\necho {} > /v\nEOF\n"
    write_context(ctx, {"Dockerfile": script.format("one")})
    build_ok(base, ctx)
    (ctx / "Dockerfile").write_text(script.format("two"))
    build_ok(base, ctx)
    assert (unpack(base, "out", tmp_path) / "v").read_text() == "two\n"
