"""schema_pattern's matcher says what re.search says of every pattern the schemas hold, over
their examples and seeded mutations of them, and leaves syntax it does not read to re."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from porter_specs.schema_pattern import Matcher, Unsupported, compile_pattern, ecma_regex

from .conftest import schema_patterns

SAMPLES = [
    "1.2.0", "1.0.0-rc.1+build.5", "0.0.1-alpha", "01.2.3", "CAP_SYS_ADMIN", "RLIMIT_NOFILE",
    "0-3,7", "2MB", "64KB", "MB:0=100;1=50", "rw", "rwm", "/proc/kcore", "NAME_UNKNOWN",
    "application/vnd.oci.image.manifest.v1+json", "sha256:" + "a" * 64, "aGVsbG8=", "",
]  # fmt: skip
EXTRA_CHARS = "0123456789azAZ._-+/:=,;\n \u0661\u00e9$^"


PATTERNS = sorted(schema_patterns())


def _mutated(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(text))
        char = rng.choice(EXTRA_CHARS + text) if text else rng.choice(EXTRA_CHARS)
        text = rng.choice([text[:at] + char + text[at:], text[:at] + text[at + 1 :], text + "\n"])
    return text


def test_the_schemas_have_patterns():
    assert len(PATTERNS) >= 10


@pytest.mark.parametrize("pattern", PATTERNS)
def test_matcher_reads_every_pattern_of_the_schemas(pattern):
    Matcher(pattern)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_matcher_agrees_with_re_on_samples_and_mutations(pattern):
    rng = random.Random(pattern)
    matcher, regex = Matcher(pattern), ecma_regex(pattern)
    texts = SAMPLES + [_mutated(rng.choice(SAMPLES), rng) for _ in range(1500)]
    wrong = [t for t in texts if matcher.search(t) != bool(regex.search(t))]
    assert wrong == []
    assert any(matcher.search(t) for t in texts)


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        ("^a$", "a\n", False),  # ECMA-262: $ is the end of the text, not before its newline
        ("^/", "/x\n", True),  # a search: the rest of the text is free
        ("b+", "aabba", True),
        ("^[^\\n]*$", "a\nb", False),
        ("^\\d{2,3}$", "\u0661\u0662", True),  # re's \d of a str pattern: any decimal digit
        ("^(?:ab|c){2}$", "abc", True),
    ],
)
def test_matcher_follows_re(pattern, text, found):
    assert Matcher(pattern).search(text) is found
    assert bool(ecma_regex(pattern).search(text)) is found


@pytest.mark.parametrize(
    "pattern", ["a.b", "(?=a)", "(a)\\1", "^a|b$", "a*?", "[[:alpha:]]", "\\w"]
)
def test_syntax_the_matcher_does_not_read_is_left_to_re(pattern):
    with pytest.raises(Unsupported):
        Matcher(pattern)


def test_without_re_imported_a_pattern_is_matched_without_it():
    code = (
        "import sys\n"
        "from porter_specs.schema_pattern import compile_pattern\n"
        "print(compile_pattern('^CAP_[A-Z]+$').search('CAP_KILL'), 're' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["True", "False"]


def test_with_re_imported_patterns_are_res():
    assert "re" in sys.modules
    assert compile_pattern("^CAP_[A-Z0-9_]+$") is ecma_regex("^CAP_[A-Z0-9_]+$")


@pytest.mark.parametrize("pattern", PATTERNS)
def test_matcher_from_its_table_agrees_with_re(pattern):
    rng = random.Random(pattern)
    matcher, regex = Matcher.from_table(Matcher(pattern).table()), ecma_regex(pattern)
    texts = SAMPLES + [_mutated(rng.choice(SAMPLES), rng) for _ in range(500)]
    assert [t for t in texts if matcher.search(t) != bool(regex.search(t))] == []
