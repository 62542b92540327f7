"""The builder's memo of context file digests (build.file_digests) kept with the layout: a
folder context's files are remembered, a temporary one's (a tar unpacked for one build, as
from stdin or porterd's POST /build) are not, since no later build sees those folders; the
memo of a context folder that is gone is removed by gc and by later builds."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, run_build, write_context
from image_test_support import PORTER_IMAGE
from porter_image.build import BuildContext, Builder, BuildOptions
from porter_image.build.file_digests import CURSOR, MIN_SIZE, SETTLED_NS, FileDigests
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
    return FileDigests.of_layout(tmp_path / "layout").memo


def test_a_folder_contexts_large_file_is_remembered(tmp_path: Path) -> None:
    memo = build_settled_context(tmp_path, temporary=False)
    assert [path for path in memo.rglob("*.json")] != []


def test_a_temporary_contexts_files_leave_no_memo_below_the_layout(tmp_path: Path) -> None:
    memo = build_settled_context(tmp_path, temporary=True)
    assert not memo.exists()


def build_settled_contexts(tmp_path: Path, *names: str) -> FileDigests:
    """Build each context folder named (made below `tmp_path`) into one layout; its memo."""
    for name in names:
        write_context(tmp_path / name, {"big": b"x" * MIN_SIZE})
    time.sleep(SETTLED_NS / 1e9 + 0.1)
    layout = Layout.open_or_create(tmp_path / "layout")
    for name in names:
        context = BuildContext(tmp_path / name)
        Builder(layout, context, BuildOptions(tags=("out",))).build(DOCKERFILE)
    return FileDigests.of_layout(tmp_path / "layout")


def test_gc_removes_the_memo_of_a_removed_context_folder_only(tmp_path: Path) -> None:
    memo = build_settled_contexts(tmp_path, "gone", "kept")
    shutil.rmtree(tmp_path / "gone")
    gc = [str(PORTER_IMAGE), "gc", str(tmp_path / "layout")]
    assert subprocess.run(gc, capture_output=True, check=False).returncode == 0
    assert not memo.memo_file(str(tmp_path / "gone")).exists()
    assert list(memo.entries(tmp_path / "kept")) == ["big"]


def test_gc_dry_run_keeps_the_memo_of_a_removed_context_folder(tmp_path: Path) -> None:
    memo = build_settled_contexts(tmp_path, "gone")
    shutil.rmtree(tmp_path / "gone")
    gc = [str(PORTER_IMAGE), "gc", "--dry-run", str(tmp_path / "layout")]
    assert subprocess.run(gc, capture_output=True, check=False).returncode == 0
    assert memo.memo_file(str(tmp_path / "gone")).exists()


def test_a_later_build_removes_the_memo_of_a_removed_context_folder(tmp_path: Path) -> None:
    memo = build_settled_contexts(tmp_path, "gone", "kept")
    shutil.rmtree(tmp_path / "gone")
    layout = Layout.open(tmp_path / "layout")
    context = BuildContext(tmp_path / "kept")
    Builder(layout, context, BuildOptions(tags=("out",))).build(DOCKERFILE)
    assert not memo.memo_file(str(tmp_path / "gone")).exists()
    assert list(memo.entries(tmp_path / "kept")) == ["big"]


def test_a_failed_prune_after_the_image_is_tagged_is_a_warning_not_a_failure(
    tmp_path: Path,
) -> None:
    write_context(tmp_path / "ctx", {"Dockerfile": DOCKERFILE, "big": b"x"})
    layout = Layout.open_or_create(tmp_path / "layout")
    memo = FileDigests.of_layout(tmp_path / "layout")
    stale = memo.memo_file(str(tmp_path / "gone"))  # one the prune checks, then moves past
    stale.parent.mkdir(parents=True)
    stale.write_text("{}\n")
    (memo.memo / CURSOR).mkdir()  # where the prune's cursor is written: it cannot be
    result = run_build(tmp_path / "layout", tmp_path / "ctx", quiet=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(layout.resolve("out").digest)
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: the memo of context file digests: [Errno 21] ")
    assert warnings[0].endswith(f"{memo.memo / CURSOR}'")
