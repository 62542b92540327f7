"""Fixtures shared by porter_specs' unit tests: the spec's examples and a way to break them."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).parent / "examples"
DELETE = object()


def load_example(name: str) -> Any:
    """A fresh copy of an example document (examples/<name>.json)."""
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def edit(document: Any, pointer: str, value: Any = DELETE) -> Any:
    """A copy of `document` with the value at `pointer` set (or deleted); missing keys are added."""
    changed = copy.deepcopy(document)
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    target = changed
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    index: Any = int(last) if isinstance(target, list) else last
    if value is DELETE:
        del target[index]
    else:
        target[index] = value
    return changed


@pytest.fixture
def example() -> Callable[[str], Any]:
    return load_example


@pytest.fixture
def broken() -> Callable[..., Any]:
    return edit


def schema_patterns() -> set[str]:
    """Every `pattern` of porter_specs' schemas."""
    from porter_specs import schema_check
    from porter_specs.schema_pattern import patterns_in

    return patterns_in(list(schema_check.schemas().values()))


def modules_imported_by(code: str) -> set[str]:
    """The modules a fresh interpreter imports to run `code`, beyond those of its start-up."""
    script = (
        "import sys; before = set(sys.modules)\n"
        f"{code}\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def modules_imported_by_checking(document: Any, kind: str) -> set[str]:
    """The modules a fresh interpreter imports to have schema_check accept `document`."""
    check = f"assert schema_check.accepts({document!r}, {kind!r})"
    return modules_imported_by(f"from porter_specs import schema_check\n{check}")
