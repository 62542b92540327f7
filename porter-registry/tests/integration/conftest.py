"""Fixtures of the integration tests: a real `porter-registry serve` per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_process import RegistryProcess, start_registry


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RegistryProcess]:
    registry = start_registry(tmp_path / "data")
    try:
        yield registry
    finally:
        registry.stop()
