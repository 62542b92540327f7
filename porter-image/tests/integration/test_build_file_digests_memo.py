"""The builder's memo of context file digests (build.file_digests) kept with the layout: a
folder context's files are remembered, a temporary one's (a tar unpacked for one build, as
from stdin or porterd's POST /build) are not, since no later build sees those folders."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, write_context
from porter_image.build import BuildContext, Builder, BuildOptions
from porter_image.build.cache import BUILD_FOLDER
from porter_image.build.file_digests import MIN_SIZE, SETTLED_NS
from porter_image.layout import Layout

pytestmark = [pytest.mark.integration, NEEDS_ROOT]

DOCKERFILE = "FROM scratch\nCOPY big /big\n"


def build_settled_context(tmp_path: Path, temporary: bool) -> Path:
    """Build a context holding a file the memo would keep; the layout's memo folder."""
    ctx = write_context(tmp_path / "ctx", {"big": b"x" * MIN_SIZE})
    time.sleep(SETTLED_NS / 1e9 + 0.1)  # only files whose ctime has settled are remembered
    layout = Layout.open_or_create(tmp_path / "layout")
    context = BuildContext(ctx, temporary=temporary)
    Builder(layout, context, BuildOptions(tags=("out",))).build(DOCKERFILE)
    return tmp_path / "layout" / BUILD_FOLDER / "file-digests"


def test_a_folder_contexts_large_file_is_remembered(tmp_path: Path) -> None:
    memo = build_settled_context(tmp_path, temporary=False)
    assert [path for path in memo.rglob("*.json")] != []


def test_a_temporary_contexts_files_leave_no_memo_below_the_layout(tmp_path: Path) -> None:
    memo = build_settled_context(tmp_path, temporary=True)
    assert not memo.exists()
