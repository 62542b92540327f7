"""Uploads survive a restart at their committed offset; concurrent pushes of one blob are safe."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from falcon import testing
from porter_registry.app import create_app
from push_support import Pusher, digest_of
from tests_common import make_registry

DATA = bytes(range(256)) * 400


def _client(data: Path) -> testing.TestClient:
    """A fresh registry process over `data`: nothing remembered in memory."""
    return testing.TestClient(create_app(make_registry(data)))


def test_session_resumes_at_committed_offset_after_restart(data: Path) -> None:
    before = _client(data)
    location = before.simulate_post("/v2/repo/blobs/uploads/").headers["location"]
    before.simulate_patch(location, body=DATA[:1000], headers={"Content-Range": "0-999"})
    upload_id = location.rsplit("/", 1)[1]
    session_data = data / "repositories/repo/_uploads" / upload_id / "data"
    with open(session_data, "ab") as torn:  # a crash in the middle of the next chunk
        torn.write(b"half of a chunk that was never acknowledged")

    after = _client(data)
    assert after.simulate_get(location).headers["range"] == "0-999"
    rest = {"Content-Range": f"1000-{len(DATA) - 1}"}
    patched = after.simulate_patch(location, body=DATA[1000:], headers=rest)
    assert patched.status_code == 202
    done = after.simulate_put(location, params={"digest": digest_of(DATA)})
    assert done.status_code == 201
    assert after.simulate_get(f"/v2/repo/blobs/{digest_of(DATA)}").content == DATA


def test_completed_session_data_is_not_a_blob_until_put(data: Path) -> None:
    client = _client(data)
    location = client.simulate_post("/v2/repo/blobs/uploads/").headers["location"]
    client.simulate_patch(location, body=DATA)
    assert client.simulate_head(f"/v2/repo/blobs/{digest_of(DATA)}").status_code == 404
    assert not (data / "blobs").exists() or not list((data / "blobs").rglob("data"))


def test_concurrent_uploads_of_the_same_blob_all_succeed(data: Path) -> None:
    client = _client(data)
    push = Pusher(client)

    def upload(i: int) -> int:
        location = client.simulate_post(f"/v2/repo{i % 3}/blobs/uploads/").headers["location"]
        for start in range(0, len(DATA), 25600):
            chunk = DATA[start : start + 25600]
            client.simulate_patch(
                location, body=chunk, headers={"Content-Range": f"{start}-{start + len(chunk) - 1}"}
            )
        return client.simulate_put(location, params={"digest": digest_of(DATA)}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(upload, range(12)))
    push.blob("repo0", DATA)
    assert statuses == [201] * 12
    assert len(list((data / "blobs").rglob("data"))) == 1
    for i in range(3):
        assert client.simulate_get(f"/v2/repo{i}/blobs/{digest_of(DATA)}").content == DATA


def test_concurrent_chunks_to_one_session_never_interleave(data: Path) -> None:
    client = _client(data)
    location = client.simulate_post("/v2/repo/blobs/uploads/").headers["location"]
    statuses: list[int] = []
    lock = threading.Lock()

    def send(byte: int) -> None:
        response = client.simulate_patch(
            location, body=bytes([byte]) * 50000, headers={"Content-Range": "0-49999"}
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(b,)) for b in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [202, 416, 416, 416]
    assert client.simulate_get(location).headers["range"] == "0-49999"
