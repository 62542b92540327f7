"""Builders used by several test modules (kept apart from conftest so tests can import them)."""

from __future__ import annotations

from pathlib import Path

from falcon import testing
from porter_registry.app import create_app
from porter_registry.registry import Registry, RegistryPolicy
from porter_registry.storage.filesystem import FilesystemDriver
from porter_registry.storage.locks import PushLock
from porter_registry.upstream import ContentSource


def make_registry(data: Path, upstream: ContentSource | None = None, **policy: object) -> Registry:
    policy_object = RegistryPolicy(**policy)  # type: ignore[arg-type]
    return Registry(FilesystemDriver(data), PushLock(data / "gc.lock"), policy_object, upstream)


def make_client(data: Path, **policy: object) -> testing.TestClient:
    return testing.TestClient(create_app(make_registry(data, **policy)))
