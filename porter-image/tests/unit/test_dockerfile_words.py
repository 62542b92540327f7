"""Word splitting and variable substitution as BuildKit's shell lexer does them."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from porter_image.dockerfile import SubstitutionError
from porter_image.dockerfile.words import expand_text, expand_word, split_words

ENV = {"SET": "value", "EMPTY": ""}


def test_split_keeps_quotes_and_does_not_split_inside_them() -> None:
    assert split_words("a=\"x y\" b='1 2'  c") == ['a="x y"', "b='1 2'", "c"]


def test_split_keeps_an_escaped_blank_in_the_word() -> None:
    assert split_words("a\\ b c") == ["a\\ b", "c"]


@pytest.mark.parametrize(
    ("word", "expanded"),
    [
        ("$SET", "value"),
        ("${SET}/x", "value/x"),
        ("$UNSET", ""),
        ("a$", "a$"),
        ("${UNSET:-default}", "default"),
        ("${EMPTY:-default}", "default"),
        ("${EMPTY-default}", ""),
        ("${SET:-default}", "value"),
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET:+alt}", ""),
        ("${UNSET:-$SET}", "value"),
        ("'$SET'", "$SET"),
        ('"$SET x"', "value x"),
        ('"a\\"b"', 'a"b'),
        ('"a\\nb"', "a\\nb"),
        ("\\$SET", "$SET"),
        ("a\\ b", "a b"),
    ],
)
def test_expansion(word: str, expanded: str) -> None:
    assert expand_word(word, ENV) == expanded


def test_backtick_escape() -> None:
    assert expand_word("`$SET", ENV, escape="`") == "$SET"


def test_question_mark_modifier_fails_on_unset_with_its_message() -> None:
    with pytest.raises(SubstitutionError, match="UNSET: needed"):
        expand_word("${UNSET:?needed}", ENV)
    assert expand_word("${SET:?needed}", ENV) == "value"


@pytest.mark.parametrize("word", ["${", "${SET", "${}", "'open", '"open', "${SET/a/b}"])
def test_malformed_words_are_errors(word: str) -> None:
    with pytest.raises(SubstitutionError):
        expand_word(word, ENV)


def test_heredoc_text_substitutes_variables_but_keeps_quotes() -> None:
    assert expand_text("say '$SET' \"${UNSET:-x}\" \\$SET\n", ENV) == "say 'value' \"x\" $SET\n"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="${}:-+?'\"\\`ab_ \n", max_size=40))
def test_any_word_expands_or_fails_with_a_substitution_error(word: str) -> None:
    for escape in ("\\", "`"):
        with contextlib.suppress(SubstitutionError):
            expand_word(word, ENV, escape)
        with contextlib.suppress(SubstitutionError):
            expand_text(word, ENV, escape)
