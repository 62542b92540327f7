"""kill -9 at any moment of an upload leaves nothing half-written visible, and the session
resumes at its last committed offset after a restart."""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from registry_process import RegistryProcess, start_registry

pytestmark = pytest.mark.integration

CHUNK = 16 * 1024 * 1024
KILL_DELAYS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)


def _chunk(index: int) -> bytes:
    return hashlib.sha256(b"%d" % index).digest() * (CHUNK // 32)


def _send_without_waiting(
    registry: RegistryProcess, method: str, target: str, body: bytes
) -> socket.socket:
    """Send a whole request and return before the answer, so a kill can land mid-write."""
    url = urlsplit(registry.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def _stored_blobs(data: Path) -> list[Path]:
    return list((data / "blobs").rglob("data")) if (data / "blobs").exists() else []


def _partial_blobs(data: Path) -> list[Path]:
    """Stored blobs whose bytes do not hash to the digest they are stored under."""
    return [
        blob
        for blob in _stored_blobs(data)
        if hashlib.sha256(blob.read_bytes()).hexdigest() != blob.parent.name
    ]


def test_kill_during_chunks_then_resume_to_a_verified_blob(tmp_path: Path) -> None:
    data = tmp_path / "data"
    registry = start_registry(data)
    try:
        start = requests.post(f"{registry.url}/v2/crash/blobs/uploads/", timeout=10)
        location = start.headers["Location"]
        committed = 0
        written: list[bytes] = []
        for index, delay in enumerate(KILL_DELAYS):
            body = _chunk(index)
            sock = _send_without_waiting(registry, "PATCH", location, body)
            time.sleep(delay)
            registry.kill()
            sock.close()
            assert _stored_blobs(data) == []  # a PATCH never publishes a blob

            registry = start_registry(data)
            status = requests.get(registry.url + location, timeout=10)
            assert status.status_code == 204
            end = int(status.headers["Range"].split("-")[1])
            offset = 0 if end == 0 else end + 1  # chunks are large: "0-0" means empty
            assert offset in (committed, committed + len(body))
            if offset == committed + len(body):
                written.append(body)
                committed = offset
        # Whatever survived, the session continues from its committed offset.
        tail = b"the end"
        patched = requests.patch(
            registry.url + location,
            data=tail,
            headers={"Content-Range": f"{committed}-{committed + len(tail) - 1}"},
            timeout=30,
        )
        assert patched.status_code == 202, patched.text
        written.append(tail)
        expected = "sha256:" + hashlib.sha256(b"".join(written)).hexdigest()
        done = requests.put(registry.url + location, params={"digest": expected}, timeout=60)
        assert done.status_code == 201, done.text
        pulled = hashlib.sha256()
        with requests.get(
            f"{registry.url}/v2/crash/blobs/{expected}", stream=True, timeout=60
        ) as r:
            for piece in r.iter_content(1 << 20):
                pulled.update(piece)
        assert "sha256:" + pulled.hexdigest() == expected
    finally:
        registry.stop()


def test_kill_during_monolithic_upload_leaves_no_partial_blob(tmp_path: Path) -> None:
    """Killed at any moment, a monolithic upload leaves no spool and no half-written blob, and
    the repository serves the blob whole or not at all. A kill between the verified blob's
    rename into the store and its link into the repository leaves a whole blob that no
    repository serves (as CNCF distribution would); gc collects it."""
    data = tmp_path / "data"
    registry = start_registry(data)
    body = _chunk(99) * 2
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    try:
        for delay in (0.0, 0.05, 0.15):
            target = f"/v2/mono/blobs/uploads/?digest={digest}"
            sock = _send_without_waiting(registry, "POST", target, body)
            time.sleep(delay)
            registry.kill()
            sock.close()
            assert list((data / "_spool").iterdir()) == []  # spools are unnamed files
            assert _partial_blobs(data) == []
            registry = start_registry(data)
            head_response = requests.head(f"{registry.url}/v2/mono/blobs/{digest}", timeout=10)
            if head_response.status_code == 200:
                # The upload finished before the kill: then the blob is whole.
                got = requests.get(f"{registry.url}/v2/mono/blobs/{digest}", timeout=30).content
                assert got == body
            else:
                assert head_response.status_code == 404
    finally:
        registry.stop()
