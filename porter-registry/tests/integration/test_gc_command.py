"""`porter-registry gc` as a command, beside a serving registry."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests
from push_support import EMPTY_CONFIG, digest_of, manifest_bytes
from registry_process import PORTER_REGISTRY, RegistryProcess

pytestmark = pytest.mark.integration


def _push_blob(server: RegistryProcess, name: str, data: bytes) -> str:
    digest = digest_of(data)
    response = requests.post(
        f"{server.url}/v2/{name}/blobs/uploads/", params={"digest": digest}, data=data, timeout=10
    )
    assert response.status_code == 201
    return digest


def _gc(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PORTER_REGISTRY), "gc", "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _age(data: Path) -> None:
    past = time.time() - 30 * 24 * 3600
    for path in (data / "blobs").rglob("*"):
        os.utime(path, (past, past))


def test_gc_sweeps_orphans_and_keeps_images_while_serving(server: RegistryProcess) -> None:
    _push_blob(server, "app", EMPTY_CONFIG)
    layer = _push_blob(server, "app", b"layer in use")
    orphan = _push_blob(server, "app", b"nobody references me")
    content = manifest_bytes(EMPTY_CONFIG, (b"layer in use",))
    put = requests.put(
        f"{server.url}/v2/app/manifests/v1",
        data=content,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        timeout=10,
    )
    assert put.status_code == 201
    _age(server.data)

    dry = _gc(server.data, "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["blobs_deleted"] == [orphan]
    assert requests.head(f"{server.url}/v2/app/blobs/{orphan}", timeout=10).status_code == 200

    real = _gc(server.data)
    assert real.returncode == 0, real.stderr
    assert f"deleted blob {orphan}" in real.stdout
    assert requests.head(f"{server.url}/v2/app/blobs/{orphan}", timeout=10).status_code == 404
    assert requests.get(f"{server.url}/v2/app/blobs/{layer}", timeout=10).content == b"layer in use"
    assert requests.get(f"{server.url}/v2/app/manifests/v1", timeout=10).content == content


def test_gc_gives_up_cleanly_when_the_lock_stays_held(server: RegistryProcess) -> None:
    from porter_registry.storage.locks import PushLock

    with PushLock(server.data / "gc.lock").shared():
        result = _gc(server.data, "--lock-timeout", "0.2")
    assert result.returncode == 1
    assert result.stderr.strip().endswith("still locked after 0.2s (is gc or a push running?)")
