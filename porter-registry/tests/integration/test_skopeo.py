"""Interoperability: skopeo copies an image into porter-registry and back out, unchanged."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import requests
from push_support import digest_of
from registry_process import RegistryProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed"),
]


def _write_blob(layout: Path, data: bytes) -> dict:
    digest = digest_of(data)
    path = layout / "blobs" / "sha256" / digest.split(":")[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": digest, "size": len(data)}


def _tiny_layer() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        content = b"hello from porter-registry\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def make_oci_layout(layout: Path, tag: str) -> str:
    """An OCI image layout holding one tiny image under `tag`; returns its manifest digest."""
    layout.mkdir(parents=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    layer = _tiny_layer()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [digest_of(gzip.decompress(layer))]},
            "config": {"Cmd": ["/hello.txt"]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                **_write_blob(layout, config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    **_write_blob(layout, layer),
                }
            ],
        }
    ).encode()
    descriptor = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        **_write_blob(layout, manifest),
    }
    descriptor["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [descriptor]}))
    return descriptor["digest"]


def _skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def _docker_ref(server: RegistryProcess, repository: str) -> str:
    return f"docker://{server.url.removeprefix('http://')}/{repository}"


def test_skopeo_copies_an_oci_image_in_and_back_out(
    server: RegistryProcess, tmp_path: Path
) -> None:
    digest = make_oci_layout(tmp_path / "source", "v1")
    _skopeo(
        "copy",
        f"oci:{tmp_path / 'source'}:v1",
        _docker_ref(server, "lib/hello:v1"),
        "--dest-tls-verify=false",
    )
    served = requests.get(
        f"{server.url}/v2/lib/hello/manifests/v1",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        timeout=10,
    )
    assert served.headers["Docker-Content-Digest"] == digest

    _skopeo(
        "copy",
        _docker_ref(server, "lib/hello:v1"),
        f"oci:{tmp_path / 'back'}:v1",
        "--src-tls-verify=false",
    )
    index = json.loads((tmp_path / "back" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == digest


def test_skopeo_pushes_docker_schema2_and_inspects_it(
    server: RegistryProcess, tmp_path: Path
) -> None:
    make_oci_layout(tmp_path / "source", "v1")
    _skopeo(
        "copy", "--format", "v2s2", f"oci:{tmp_path / 'source'}:v1",
        _docker_ref(server, "docker/hello:v1"), "--dest-tls-verify=false",
    )  # fmt: skip
    raw = _skopeo("inspect", "--raw", "--tls-verify=false", _docker_ref(server, "docker/hello:v1"))
    assert (
        json.loads(raw.stdout)["mediaType"]
        == "application/vnd.docker.distribution.manifest.v2+json"
    )
    tags = _skopeo("list-tags", "--tls-verify=false", _docker_ref(server, "docker/hello"))
    assert json.loads(tags.stdout)["Tags"] == ["v1"]


def test_skopeo_deletes_an_image(server: RegistryProcess, tmp_path: Path) -> None:
    make_oci_layout(tmp_path / "source", "v1")
    ref = _docker_ref(server, "gone/hello:v1")
    _skopeo("copy", f"oci:{tmp_path / 'source'}:v1", ref, "--dest-tls-verify=false")
    _skopeo("delete", "--tls-verify=false", ref)
    assert requests.get(f"{server.url}/v2/gone/hello/manifests/v1", timeout=10).status_code == 404
