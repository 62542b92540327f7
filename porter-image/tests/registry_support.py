"""Registries for porter-image's tests: a real porter-registry process on loopback.

The process helper is porter-registry's own (`porter-registry/tests/registry_process.py`, which
starts the `porter-registry` command and is meant for other suites); it is loaded by path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_PROCESS = REPO / "porter-registry" / "tests" / "registry_process.py"


def _load_registry_process():  # type: ignore[no-untyped-def]
    name = "porter_registry_process"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _PROCESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


registry_process = _load_registry_process()
running_registry = registry_process.running_registry
start_registry = registry_process.start_registry


def host_of(url: str) -> str:
    """`127.0.0.1:PORT` of a registry URL."""
    return url.split("://", 1)[1].rstrip("/")
