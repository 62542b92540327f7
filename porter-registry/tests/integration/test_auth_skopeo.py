"""Real clients through real auth: skopeo logs in (Basic, or the token dance) to push and pull.

A real `porter-registry serve` with a config file, on loopback; skopeo copies a small OCI image
layout in with `--dest-creds` and back out with `--src-creds` or anonymously.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from auth_support import GROUPS, POLICY, write_htpasswd
from push_support import digest_of, manifest_bytes
from registry_process import PORTER_REGISTRY, RegistryProcess, running_registry

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed"),
]

# gzip-compressed, so that skopeo copies it as it is instead of compressing it.
LAYER = gzip.compress(b"not really a tarball, but skopeo only copies bytes", mtime=0)


def oci_layout(root: Path) -> Path:
    """An OCI image layout holding one image tagged v1."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [digest_of(LAYER)]},
        }
    ).encode()
    manifest = manifest_bytes(config, (LAYER,))
    for blob in (config, LAYER, manifest):
        (blobs / digest_of(blob).split(":")[1]).write_bytes(blob)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest_of(manifest),
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": "v1"},
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    return root


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", "--insecure-policy", "copy", "--retry-times", "0", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(params=["htpasswd", "token"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RegistryProcess]:
    htpasswd = write_htpasswd(tmp_path / "htpasswd")
    auth = {"kind": request.param, "htpasswd": str(htpasswd), "policy": POLICY, "groups": GROUPS}
    config = tmp_path / "registry.json"
    config.write_text(json.dumps({"auth": auth}))
    with running_registry(tmp_path / "data", "--config", str(config)) as process:
        yield process


def docker(registry: RegistryProcess, repository: str) -> str:
    return f"docker://{registry.url.split('://', 1)[1]}/{repository}:v1"


def push(registry: RegistryProcess, tmp_path: Path, repository: str, creds: str | None):
    """skopeo copy of a fresh layout to `repository`, logging in with USER:PASSWORD if given."""
    login = ["--dest-creds", creds] if creds else []
    source = oci_layout(tmp_path / "layout")
    return skopeo(
        "--dest-tls-verify=false", *login, f"oci:{source}:v1", docker(registry, repository)
    )


def pull(registry: RegistryProcess, tmp_path: Path, repository: str, creds: str | None):
    login = ["--src-creds", creds] if creds else []
    target = f"oci:{tmp_path / 'out'}:v1"
    return skopeo("--src-tls-verify=false", *login, docker(registry, repository), target)


def test_skopeo_pushes_with_credentials_and_pulls_them_back(
    registry: RegistryProcess, tmp_path: Path
) -> None:
    pushed = push(registry, tmp_path, "team/app", "alice:alice-secret")
    assert pushed.returncode == 0, pushed.stderr
    pulled = pull(registry, tmp_path, "team/app", "bob:bob-secret")
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "out" / "blobs" / "sha256" / digest_of(LAYER).split(":")[1]).exists()


def test_skopeo_cannot_push_anonymously(registry: RegistryProcess, tmp_path: Path) -> None:
    pushed = push(registry, tmp_path, "team/app", None)
    assert pushed.returncode != 0
    assert any(word in pushed.stderr.lower() for word in ("unauthorized", "denied"))
    assert not list((registry.data).rglob(digest_of(LAYER).split(":")[1]))


def test_skopeo_cannot_push_with_pull_only_credentials(
    registry: RegistryProcess, tmp_path: Path
) -> None:
    assert push(registry, tmp_path, "team/app", "bob:bob-secret").returncode != 0
    assert not list((registry.data).rglob(digest_of(LAYER).split(":")[1]))


def test_skopeo_pulls_anonymously_where_the_policy_allows(
    registry: RegistryProcess, tmp_path: Path
) -> None:
    pushed = push(registry, tmp_path, "public/app", "bob:bob-secret")
    assert pushed.returncode == 0, pushed.stderr
    pulled = pull(registry, tmp_path, "public/app", None)
    assert pulled.returncode == 0, pulled.stderr


def test_the_version_check_challenges_over_real_http(registry: RegistryProcess) -> None:
    response = requests.get(f"{registry.url}/v2/", timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].split(" ")[0] in ("Basic", "Bearer")


def test_a_non_bcrypt_htpasswd_stops_the_registry_with_one_line(tmp_path: Path) -> None:
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text("carol:{SHA}OV3498UfAHAZyzAgHEnohLRrkvo=\n")
    config = tmp_path / "registry.json"
    config.write_text(json.dumps({"auth": {"kind": "htpasswd", "htpasswd": str(htpasswd)}}))
    result = subprocess.run(
        [
            str(PORTER_REGISTRY),
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data",
            str(tmp_path / "d"),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"porter-registry: htpasswd {htpasswd}: line 1: user 'carol' has a non-bcrypt hash; "
        "only bcrypt entries are accepted (create them with `htpasswd -B`)"
    ]
