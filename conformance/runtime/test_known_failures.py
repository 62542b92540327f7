"""The known-failures list stays honest: every entry names a real check and is documented."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conformance.runtime.known_failures import KNOWN_FAILURES

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"


def _test_names() -> set[str]:
    names = set()
    for module in HERE.glob("test_*.py"):
        tree = ast.parse(module.read_text())
        names.update(
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        )
    return names


ENTRIES = [(runtime, check) for runtime, checks in KNOWN_FAILURES.items() for check in checks]


@pytest.mark.parametrize(("runtime", "check"), ENTRIES)
def test_known_failure_names_a_real_check(runtime, check):
    assert check.split("[", 1)[0] in _test_names()


@pytest.mark.parametrize(("runtime", "check"), ENTRIES)
def test_known_failure_has_a_reason(runtime, check):
    assert len(KNOWN_FAILURES[runtime][check]) > 20


@pytest.mark.parametrize(("runtime", "check"), ENTRIES)
def test_known_failure_is_listed_in_readme(runtime, check):
    assert f"`{check}`" in README.read_text()
