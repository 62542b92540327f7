"""Garbage collection: mark and sweep, untagged manifests, grace period, and the push lock."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from falcon import testing
from porter_registry.gc import GarbageCollector
from porter_registry.registry import Registry
from porter_registry.storage.locks import LockTimeoutError
from porter_specs import media_types
from push_support import EMPTY_CONFIG, Pusher, digest_of, index_bytes, manifest_bytes

OLD = 10 * 24 * 3600


def _age_everything(data: Path) -> None:
    """Pretend every file was written long ago, so the grace period no longer protects it."""
    past = time.time() - OLD
    for path in data.rglob("*"):
        os.utime(path, (past, past))


def _collector(registry: Registry, grace: float = 3600) -> GarbageCollector:
    return GarbageCollector(registry.driver, registry.lock, grace_seconds=grace)


def test_unreferenced_old_blob_is_deleted_and_referenced_ones_kept(
    registry: Registry, push: Pusher, client: testing.TestClient, data: Path
) -> None:
    content = push.image("repo", "v1", layers=(b"kept",))
    orphan = push.blob("repo", b"orphan")
    _age_everything(data)
    report = _collector(registry).run()
    assert report.blobs_deleted == (orphan,)
    assert client.simulate_head(f"/v2/repo/blobs/{orphan}").status_code == 404
    assert client.simulate_get(f"/v2/repo/blobs/{digest_of(b'kept')}").content == b"kept"
    assert client.simulate_get("/v2/repo/manifests/v1").content == content


def test_dry_run_deletes_nothing(registry: Registry, push: Pusher, data: Path) -> None:
    orphan = push.blob("repo", b"orphan")
    _age_everything(data)
    report = _collector(registry).run(dry_run=True)
    assert report.blobs_deleted == (orphan,)
    assert registry.blobs.size(registry.resolve("repo", orphan)) == len(b"orphan")


def test_recent_blob_survives_the_grace_period(registry: Registry, push: Pusher) -> None:
    push.blob("repo", b"just uploaded, manifest not pushed yet")
    assert _collector(registry).run().blobs_deleted == ()


def test_mounting_an_old_blob_restarts_its_grace_period(
    registry: Registry, push: Pusher, client: testing.TestClient, data: Path
) -> None:
    digest = push.blob("source", b"old blob")
    _age_everything(data)
    client.simulate_post("/v2/target/blobs/uploads/", params={"mount": digest, "from": "source"})
    assert _collector(registry).run().blobs_deleted == ()


def test_untagged_manifests_are_deleted_only_when_asked(
    registry: Registry, push: Pusher, client: testing.TestClient, data: Path
) -> None:
    push.image("repo", "v1", layers=(b"first",))
    client.simulate_delete("/v2/repo/manifests/v1")
    _age_everything(data)
    assert _collector(registry).run().manifests_deleted == ()
    report = _collector(registry).run(delete_untagged=True)
    assert len(report.manifests_deleted) == 1
    assert digest_of(b"first") in report.blobs_deleted


def test_delete_untagged_keeps_index_children_and_referrers(
    registry: Registry, push: Pusher, data: Path
) -> None:
    push.blob("repo", EMPTY_CONFIG)
    child = manifest_bytes()
    push.manifest("repo", digest_of(child), child)
    push.manifest("repo", "all", index_bytes([child]), media_types.IMAGE_INDEX)
    referrer = manifest_bytes(
        subject={"mediaType": media_types.IMAGE_MANIFEST, "digest": digest_of(child), "size": 1},
        artifactType="application/example",
    )
    push.manifest("repo", digest_of(referrer), referrer)
    _age_everything(data)
    report = _collector(registry).run(delete_untagged=True)
    assert report.manifests_deleted == ()
    assert report.blobs_deleted == ()


def test_gc_waits_for_a_manifest_push_holding_the_lock(registry: Registry) -> None:
    with registry.lock.shared(), pytest.raises(LockTimeoutError):
        _collector(registry).run(lock_timeout=0.2)


def test_manifest_push_waits_while_gc_runs_then_sees_swept_blob_missing(
    registry: Registry, push: Pusher, client: testing.TestClient, data: Path
) -> None:
    """A push racing gc either completes before gc marks, or finds its blob gone and is
    refused, never leaving a manifest that points at a deleted blob."""
    layer = push.blob("repo", b"racing layer")
    push.blob("repo", EMPTY_CONFIG)
    _age_everything(data)
    content = manifest_bytes(EMPTY_CONFIG, (b"racing layer",))
    result: dict[str, int] = {}
    with registry.lock.exclusive():
        pusher = threading.Thread(
            target=lambda: result.setdefault(
                "status",
                client.simulate_put(
                    "/v2/repo/manifests/v1",
                    body=content,
                    headers={"Content-Type": media_types.IMAGE_MANIFEST},
                ).status_code,
            )
        )
        pusher.start()
        time.sleep(0.3)
        assert "status" not in result  # blocked behind gc's lock
        # What gc does while holding the lock: sweep the (still unreferenced) old blobs.
        registry.blobs.delete(registry.resolve("repo", layer))
    pusher.join(timeout=10)
    assert result["status"] == 404
    assert client.simulate_get("/v2/repo/manifests/v1").status_code == 404


def test_pushes_between_gc_runs_are_never_swept(
    registry: Registry, push: Pusher, client: testing.TestClient, data: Path
) -> None:
    stop = threading.Event()
    errors: list[str] = []

    def collect() -> None:
        while not stop.is_set():
            _collector(registry, grace=0).run(delete_untagged=False)

    collector = threading.Thread(target=collect)
    collector.start()
    try:
        for i in range(15):
            layer = f"layer {i}".encode()
            push.blob("repo", EMPTY_CONFIG)
            push.blob("repo", layer)
            response = client.simulate_put(
                f"/v2/repo/manifests/t{i}",
                body=manifest_bytes(EMPTY_CONFIG, (layer,)),
                headers={"Content-Type": media_types.IMAGE_MANIFEST},
            )
            if response.status_code == 201:
                blob = client.simulate_get(f"/v2/repo/blobs/{digest_of(layer)}")
                if blob.status_code != 200:
                    errors.append(f"t{i}: manifest accepted but layer gone")
            elif response.status_code != 404:
                errors.append(f"t{i}: {response.status_code}")
    finally:
        stop.set()
        collector.join(timeout=30)
    assert errors == []
