""".dockerignore patterns: Go's filepath.Match, `**`, `!` exceptions, last match wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from porter_image.dockerfile import IgnorePatternError
from porter_image.dockerfile.ignore import IgnoreRules


def rules(text: str) -> IgnoreRules:
    return IgnoreRules.from_text(text)


def test_star_does_not_cross_folders() -> None:
    r = rules("*.log\n")
    assert r.ignored("a.log")
    assert not r.ignored("sub/a.log")


def test_a_matched_folder_ignores_everything_below_it() -> None:
    assert rules("build\n").ignored("build/x/y.o")


def test_double_star_matches_any_depth_including_none() -> None:
    r = rules("**/*.pyc\n")
    assert r.ignored("x.pyc")
    assert r.ignored("a/b/c/x.pyc")
    assert not r.ignored("a/x.py")


def test_double_star_in_the_middle() -> None:
    r = rules("a/**/z\n")
    assert r.ignored("a/z")
    assert r.ignored("a/b/c/z")
    assert not r.ignored("b/z")


def test_exception_brings_a_path_back_and_order_matters() -> None:
    r = rules("*.md\n!README.md\n")
    assert r.ignored("CHANGES.md")
    assert not r.ignored("README.md")
    assert rules("!README.md\n*.md\n").ignored("README.md")


def test_question_mark_and_character_classes() -> None:
    r = rules("file?.txt\n[a-c].bin\n[!x]y\n")
    assert r.ignored("file1.txt")
    assert not r.ignored("file10.txt")
    assert r.ignored("b.bin")
    assert not r.ignored("d.bin")
    assert r.ignored("ay")
    assert not r.ignored("xy")


def test_leading_slash_and_dot_segments_are_cleaned() -> None:
    r = rules("/secret/./key\n")
    assert r.ignored("secret/key")


def test_comments_and_blank_lines_are_skipped() -> None:
    r = rules("# *.txt\n\n   \n")
    assert not r.ignored("a.txt")


def test_backslash_escapes_a_metacharacter() -> None:
    r = rules("a\\*b\n")
    assert r.ignored("a*b")
    assert not r.ignored("axb")


def test_exceptions_say_an_ignored_folder_must_still_be_walked() -> None:
    assert rules("docs\n!docs/keep.md\n").may_hold_kept("docs")
    assert not rules("docs\n").may_hold_kept("docs")


@pytest.mark.parametrize("line", ["[abc", "x\\", "!", "[z-a]"])
def test_malformed_patterns_are_errors(line: str) -> None:
    with pytest.raises(IgnorePatternError):
        rules(line + "\n")


def test_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("a\n")
    (tmp_path / "app.Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "app.Dockerfile.dockerignore").write_text("b\n")
    r = IgnoreRules.for_context(tmp_path, tmp_path / "app.Dockerfile")
    assert (r.ignored("a"), r.ignored("b")) == (False, True)
    assert IgnoreRules.for_context(tmp_path).ignored("a")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="*?[]!^\\/-.a b**", max_size=20), st.text(alphabet="ab/.-", max_size=12))
def test_any_pattern_compiles_and_matches_or_fails_with_a_pattern_error(
    pattern: str, path: str
) -> None:
    try:
        rules = IgnoreRules.from_text(pattern)
    except IgnorePatternError:
        return
    rules.ignored(path or "a")
