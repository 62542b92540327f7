"""Registries for porter-image's tests: a real porter-registry process on loopback, and
Debian's docker-registry (CNCF distribution) where it is installed.

The process helper is porter-registry's own (`porter-registry/tests/registry_process.py`, which
starts the `porter-registry` command and is meant for other suites); it is loaded by path.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_distribution(folder: Path, http: str = "", address: str = "127.0.0.1") -> Iterator[str]:
    """Debian's docker-registry (CNCF distribution 2.x) on a free loopback port, its data in
    `folder`; `http` is more of the config's `http:` section (indented two spaces), e.g. its
    `tls:`. Yields `ADDRESS:PORT`; skips the test where the registry is missing or fails."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("docker-registry is not installed")
    port = _free_port(address)
    (folder / "config.yml").write_text(
        "version: 0.1\n"
        "log:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: {address}:{port}\n{http}"
    )
    with open(folder / "log", "wb") as log:
        # distribution reads REGISTRY_* variables as config (REGISTRY_AUTH_FILE would be auth)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        process = subprocess.Popen(
            [binary, "serve", str(folder / "config.yml")], stdout=log, stderr=log, env=env
        )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.poll() is None:
            with socket.socket() as probe:
                if probe.connect_ex((address, port)) == 0:
                    break
            time.sleep(0.05)
        else:
            pytest.skip(f"docker-registry did not start: {(folder / 'log').read_text()[-300:]}")
        yield f"{address}:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
