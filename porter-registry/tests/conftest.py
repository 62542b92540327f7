"""Fixtures of porter-registry's tests; helpers live in push_support, tests_common and
registry_process (all importable from test modules)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from falcon import testing

sys.path.insert(0, str(Path(__file__).resolve().parent))

from porter_registry.app import create_app
from porter_registry.registry import Registry
from push_support import Pusher
from tests_common import make_registry


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def registry(data: Path) -> Registry:
    return make_registry(data)


@pytest.fixture
def client(registry: Registry) -> testing.TestClient:
    return testing.TestClient(create_app(registry))


@pytest.fixture
def push(client: testing.TestClient) -> Pusher:
    return Pusher(client)
