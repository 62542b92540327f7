"""Loading known_failures.py, the one list of checks each target is known to fail."""

from __future__ import annotations

import importlib.util
from pathlib import Path

KNOWN_FAILURES_FILE = Path(__file__).resolve().parent.parent / "known_failures.py"


def load_known_failures() -> dict[str, dict[str, str]]:
    """The list, loaded under a module name that no other suite's module can shadow."""
    spec = importlib.util.spec_from_file_location(
        "distribution_known_failures", KNOWN_FAILURES_FILE
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.KNOWN_FAILURES
