"""Cache keys of build steps: what changes a key and what does not (Docker's rules)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from porter_image.build.cache import step_key
from porter_image.build.context import BuildContext
from porter_image.build.errors import BuildError
from porter_image.dockerfile.ignore import IgnoreRules


@pytest.fixture
def context(tmp_path: Path) -> BuildContext:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a")
    (tmp_path / "src" / "b.txt").write_text("b")
    return BuildContext(tmp_path)


def digest_of(context: BuildContext, pattern: str = "src") -> str:
    return context.digest(context.resolve(pattern, "test"))


def test_a_step_key_depends_on_its_parent_and_every_part() -> None:
    key = step_key("parent", "COPY a /a", "sha256:1")
    assert key == step_key("parent", "COPY a /a", "sha256:1")
    assert key != step_key("other", "COPY a /a", "sha256:1")
    assert key != step_key("parent", "COPY a /b", "sha256:1")
    assert key != step_key("parent", "COPY a /a", "sha256:2")


def test_parts_are_separated_so_they_cannot_shift() -> None:
    assert step_key("p", "ab", "c") != step_key("p", "a", "bc")


def test_source_digest_ignores_mtimes(context: BuildContext) -> None:
    before = digest_of(context)
    os.utime(context.root / "src" / "a.txt", (1, 1))
    assert digest_of(context) == before


def test_source_digest_changes_with_content(context: BuildContext) -> None:
    before = digest_of(context)
    (context.root / "src" / "a.txt").write_text("A")
    assert digest_of(context) != before


def test_source_digest_changes_with_mode(context: BuildContext) -> None:
    before = digest_of(context)
    (context.root / "src" / "a.txt").chmod(0o600)
    assert digest_of(context) != before


def test_source_digest_changes_with_a_new_file(context: BuildContext) -> None:
    before = digest_of(context)
    (context.root / "src" / "c.txt").write_text("")
    assert digest_of(context) != before


def test_source_digest_changes_with_a_rename(context: BuildContext) -> None:
    before = digest_of(context)
    (context.root / "src" / "a.txt").rename(context.root / "src" / "z.txt")
    assert digest_of(context) != before


def test_source_digest_leaves_out_ignored_files(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "keep").write_text("k")
    plain = BuildContext(tmp_path)
    ignoring = BuildContext(tmp_path, IgnoreRules.from_text("src/*.log\n"))
    before = digest_of(ignoring)
    (tmp_path / "src" / "debug.log").write_text("noise")
    assert digest_of(ignoring) == before
    assert digest_of(plain) != before


def test_wildcards_match_within_one_folder(context: BuildContext) -> None:
    rels = [s.rel for s in context.resolve("src/*.txt", "test")]
    assert rels == ["src/a.txt", "src/b.txt"]


def test_a_path_leaving_the_context_is_refused(context: BuildContext) -> None:
    with pytest.raises(BuildError, match="outside the build context"):
        context.resolve("../etc/passwd", "Dockerfile:2: COPY")


def test_a_symlink_leading_out_is_refused(context: BuildContext) -> None:
    (context.root / "out").symlink_to("/etc")
    with pytest.raises(BuildError, match="symlink leads outside"):
        context.resolve("out", "Dockerfile:2: COPY")


def test_an_ignored_source_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("")
    context = BuildContext(tmp_path, IgnoreRules.from_text("secret\n"))
    with pytest.raises(BuildError, match="not found"):
        context.resolve("secret", "Dockerfile:2: COPY")


def test_a_malformed_source_pattern_is_a_build_error(context: BuildContext) -> None:
    with pytest.raises(BuildError, match=r"Dockerfile:2: COPY: pattern '\[z-a\]'"):
        context.resolve("src/[z-a]", "Dockerfile:2: COPY")
