"""The `oras` Python SDK against a real porter-registry: an artifact pushed with a subject is
found through the referrers API.

The SDK pushes (blobs, config, a manifest carrying `subject`) and pulls; it has no call for
the referrers API, so that one request goes through the SDK's own authenticated `do_request`.
Run without auth, with Basic auth (the SDK's basic backend), and with token auth. With tokens
the SDK keeps one token per client and asks for a new one only on a 403, not on the 401
`insufficient_scope` that CNCF distribution and porter-registry answer when a push needs more
than the pull token it got first; so the test hands it a pull+push token from `/token`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import oras.client
import oras.oci
import pytest
import requests
from auth_support import GROUPS, POLICY, write_htpasswd
from registry_process import RegistryProcess, running_registry

pytestmark = pytest.mark.integration

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
SIGNATURE_TYPE = "application/vnd.example.signature.v1+json"


@dataclass
class Oras:
    client: oras.client.OrasClient
    host: str
    registry: RegistryProcess

    def url(self, path: str) -> str:
        return f"{self.registry.url}{path}"


@pytest.fixture(params=["none", "htpasswd", "token"])
def oras_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Oras]:
    kind = request.param
    args: list[str] = []
    if kind != "none":
        htpasswd = write_htpasswd(tmp_path / "htpasswd")
        auth = {"kind": kind, "htpasswd": str(htpasswd), "policy": POLICY, "groups": GROUPS}
        (tmp_path / "registry.json").write_text(json.dumps({"auth": auth}))
        args = ["--config", str(tmp_path / "registry.json")]
    with running_registry(tmp_path / "data", *args) as registry:
        host = registry.url.split("://", 1)[1]
        backend = "basic" if kind == "htpasswd" else "token"
        client = oras.client.OrasClient(hostname=host, insecure=True, auth_backend=backend)
        if kind != "none":
            # In memory only: the SDK's login() also writes ~/.docker/config.json.
            client.auth.set_basic_auth("alice", "alice-secret")
        if kind == "token":
            client.auth.set_token_auth(token_for(registry, "repository:team/artifact:pull,push"))
        yield Oras(client, host, registry)


def token_for(registry: RegistryProcess, scope: str) -> str:
    answer = requests.get(
        f"{registry.url}/token", params={"scope": scope}, auth=("alice", "alice-secret"), timeout=30
    )
    answer.raise_for_status()
    return answer.json()["token"]


def push(oras_: Oras, tmp_path: Path, tag: str, content: str, **options) -> tuple[str, bytes]:
    """Push one file as an artifact; return (manifest digest, manifest bytes) as served."""
    path = tmp_path / f"{tag}.txt"
    path.write_text(content)
    target = f"{oras_.host}/team/artifact:{tag}"
    response = oras_.client.push(
        target=target, files=[str(path)], disable_path_validation=True, quiet=True, **options
    )
    assert response.status_code == 201, response.text
    served = oras_.client.do_request(
        oras_.url(f"/v2/team/artifact/manifests/{tag}"), "GET", headers={"Accept": OCI_MANIFEST}
    )
    return served.headers["Docker-Content-Digest"], served.content


def test_an_artifact_pushed_with_a_subject_is_listed_by_the_referrers_api(
    oras_client: Oras, tmp_path: Path
) -> None:
    subject_digest, subject_bytes = push(oras_client, tmp_path, "v1", "the artifact")
    subject = oras.oci.Subject(OCI_MANIFEST, subject_digest, len(subject_bytes))
    config = tmp_path / "signature-config.json"
    config.write_text("{}")
    signature_digest, _ = push(
        oras_client,
        tmp_path,
        "sig",
        "a signature",
        subject=subject,
        manifest_config=f"{config}:{SIGNATURE_TYPE}",
    )
    response = oras_client.client.do_request(
        oras_client.url(f"/v2/team/artifact/referrers/{subject_digest}"), "GET"
    )
    assert response.status_code == 200
    index = response.json()
    assert [m["digest"] for m in index["manifests"]] == [signature_digest]
    assert index["manifests"][0]["artifactType"] == SIGNATURE_TYPE


def test_the_referrers_api_filters_by_artifact_type(oras_client: Oras, tmp_path: Path) -> None:
    subject_digest, subject_bytes = push(oras_client, tmp_path, "v1", "the artifact")
    subject = oras.oci.Subject(OCI_MANIFEST, subject_digest, len(subject_bytes))
    push(oras_client, tmp_path, "sig", "a signature", subject=subject)
    response = oras_client.client.do_request(
        oras_client.url(f"/v2/team/artifact/referrers/{subject_digest}?artifactType=x/y"), "GET"
    )
    assert response.json()["manifests"] == []
    assert response.headers["OCI-Filters-Applied"] == "artifactType"


def test_an_artifact_pushed_by_oras_pulls_back_unchanged(oras_client: Oras, tmp_path: Path) -> None:
    push(oras_client, tmp_path, "v1", "the artifact")
    out = tmp_path / "out"
    files = oras_client.client.pull(target=f"{oras_client.host}/team/artifact:v1", outdir=str(out))
    assert [Path(f).read_text() for f in files] == ["the artifact"]
