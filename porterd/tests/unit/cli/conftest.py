"""Fixtures of porter's unit tests: a fake Engine API on a unix socket, and porter run as a
command against it with its own config folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from porter_fake_engine import PORTER, FakeEngine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[FakeEngine]:
    fake = FakeEngine()
    fake.host = fake.serve_unix(tmp_path / "engine.sock")  # type: ignore[attr-defined]
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def porter_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no daemon address of the caller's and a config folder of the test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "PORTER_"))}
    env["PORTER_CONFIG"] = str(tmp_path / "config")
    return env


@pytest.fixture
def porter(engine: FakeEngine, porter_env: dict[str, str]):  # type: ignore[no-untyped-def]
    """Run porter against the fake engine: porter("ps", "-a") -> CompletedProcess (text)."""

    def run(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, host: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(PORTER), *(["-H", engine.host] if host else []), *args]  # type: ignore[attr-defined]
        return subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
            env={**porter_env, **(env or {})},
        )

    return run
