"""The known-failures list names real checks and real targets, each with a reason."""

from __future__ import annotations

import re
from pathlib import Path

from distribution_conformance.known import load_known_failures

HERE = Path(__file__).resolve().parent
_TEST_FUNCTION = re.compile(r"^def (test_\w+)\(", re.MULTILINE)
_TARGETS = {"porter-registry", "docker-registry"}


def _check_names() -> set[str]:
    names: set[str] = set()
    for path in HERE.glob("test_*.py"):
        names |= set(_TEST_FUNCTION.findall(path.read_text()))
    return names


def test_every_known_failure_names_a_check_of_this_suite():
    checks = _check_names()
    for target, failures in load_known_failures().items():
        for key in failures:
            assert key.split("[", 1)[0] in checks, f"{target}: {key} is not a check of this suite"


def test_every_known_failure_is_for_a_target_the_suite_starts():
    assert set(load_known_failures()) <= _TARGETS


def test_every_known_failure_has_a_reason():
    for target, failures in load_known_failures().items():
        for key, reason in failures.items():
            assert reason.strip(), f"{target}: {key} has no reason"


def test_readme_lists_every_known_failure():
    readme = (HERE.parent / "README.md").read_text()
    for target, failures in load_known_failures().items():
        for key in failures:
            assert f"`{key}`" in readme, f"{target}: {key} is missing from conformance/README.md"
