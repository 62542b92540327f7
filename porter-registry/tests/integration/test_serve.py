"""A real `porter-registry serve` process: start-up, pushes with chunked bodies, pulls."""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from push_support import EMPTY_CONFIG, digest_of, manifest_bytes
from registry_process import RegistryProcess, running_registry

pytestmark = pytest.mark.integration
CHUNK = 1 << 20


def _chunks(total: int, seed: bytes = b"porter") -> Iterator[bytes]:
    block = hashlib.sha256(seed).digest() * (CHUNK // 32)
    sent = 0
    while sent < total:
        piece = block[: min(CHUNK, total - sent)]
        sent += len(piece)
        yield piece


def test_minimal_command_line_serves_the_api(server: RegistryProcess) -> None:
    response = requests.get(f"{server.url}/v2/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_data_folder_from_the_environment(tmp_path: Path) -> None:
    data = tmp_path / "from-env"
    env = {"PORTER_REGISTRY_DATA": str(data)}
    with running_registry(tmp_path / "ignored", env=env) as registry:
        # --data on the command line wins over the environment.
        requests.post(
            f"{registry.url}/v2/r/blobs/uploads/",
            params={"digest": digest_of(b"x")},
            data=b"x",
            timeout=10,
        )
    assert (tmp_path / "ignored" / "repositories" / "r").is_dir()
    assert not data.exists()


def test_chunked_transfer_patch_then_put_and_pull(server: RegistryProcess) -> None:
    size = 12 * CHUNK + 123
    expected = hashlib.sha256(b"".join(_chunks(size))).hexdigest()
    start = requests.post(f"{server.url}/v2/big/blobs/uploads/", timeout=10)
    location = server.url + start.headers["Location"]
    patched = requests.patch(location, data=_chunks(size), timeout=60)  # Transfer-Encoding: chunked
    assert patched.status_code == 202
    assert patched.headers["Range"] == f"0-{size - 1}"
    done = requests.put(
        server.url + patched.headers["Location"],
        params={"digest": f"sha256:{expected}"},
        timeout=60,
    )
    assert done.status_code == 201
    pulled = hashlib.sha256()
    with requests.get(f"{server.url}/v2/big/blobs/sha256:{expected}", stream=True, timeout=60) as r:
        assert r.headers["Content-Length"] == str(size)
        for piece in r.iter_content(CHUNK):
            pulled.update(piece)
    assert pulled.hexdigest() == expected


def test_large_monolithic_upload_is_stored_whole_from_the_spool(server: RegistryProcess) -> None:
    body = b"".join(_chunks(9 * CHUNK + 5, seed=b"spool"))  # past waitress's in-memory limit
    digest = f"sha256:{hashlib.sha256(body).hexdigest()}"
    start = requests.post(f"{server.url}/v2/spool/blobs/uploads/", timeout=10)
    done = requests.put(
        server.url + start.headers["Location"], params={"digest": digest}, data=body, timeout=60
    )
    assert done.status_code == 201
    blob = server.data / "blobs/sha256" / digest[7:9] / digest[7:] / "data"
    assert blob.read_bytes() == body
    assert blob.stat().st_nlink == 1
    assert list((server.data / "_spool").iterdir()) == []
    assert list((server.data / "repositories/spool/_uploads").iterdir()) == []


def test_range_request_over_http(server: RegistryProcess) -> None:
    data = os.urandom(100_000)
    digest = digest_of(data)
    requests.post(
        f"{server.url}/v2/r/blobs/uploads/", params={"digest": digest}, data=data, timeout=10
    )
    response = requests.get(
        f"{server.url}/v2/r/blobs/{digest}", headers={"Range": "bytes=1000-1999"}, timeout=10
    )
    assert response.status_code == 206
    assert response.content == data[1000:2000]


def test_manifest_push_and_pull_over_http(server: RegistryProcess) -> None:
    requests.post(
        f"{server.url}/v2/app/blobs/uploads/",
        params={"digest": digest_of(EMPTY_CONFIG)},
        data=EMPTY_CONFIG,
        timeout=10,
    )
    content = manifest_bytes()
    put = requests.put(
        f"{server.url}/v2/app/manifests/latest",
        data=content,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        timeout=10,
    )
    assert put.status_code == 201
    got = requests.get(f"{server.url}/v2/app/manifests/latest", timeout=10)
    assert got.content == content
    assert got.headers["Docker-Content-Digest"] == digest_of(content)


def test_sigterm_stops_the_server(tmp_path: Path) -> None:
    with running_registry(tmp_path / "data") as registry:
        registry.process.terminate()
        assert registry.process.wait(timeout=10) == 0


def test_tls_hello_on_the_plain_port_is_hung_up_on(server: RegistryProcess) -> None:
    """Clients that try HTTPS first get an immediate failure, then fall back to HTTP."""
    host, port = server.url.removeprefix("http://").split(":")
    context = ssl.create_default_context()
    with (
        socket.create_connection((host, int(port)), timeout=5) as raw,
        pytest.raises((ssl.SSLError, ConnectionError)),
    ):
        context.wrap_socket(raw, server_hostname=host)
    assert requests.get(f"{server.url}/v2/", timeout=10).status_code == 200
