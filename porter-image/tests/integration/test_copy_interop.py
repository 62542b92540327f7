"""Interop of copy with skopeo both ways, and with Debian's docker-registry (CNCF distribution),
which has no referrers API: what one pushes the other pulls, with the same manifest digest."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from copy_test_support import SIGNATURE_TYPE, make_signature
from porter_image.copy import copy_image
from porter_image.distribution.client import RegistryOptions
from porter_image.distribution.repository import Repository
from porter_image.endpoints.registry import open_repository
from porter_image.layout import Layout
from porter_image.reference import parse_docker_reference
from porter_specs.models import Descriptor
from registry_support import host_of, running_distribution, running_registry

pytestmark = pytest.mark.usefixtures("no_stored_credentials")


def skopeo(*args: str) -> None:
    binary = shutil.which("skopeo")
    if binary is None:
        pytest.skip("skopeo is not installed")
    command = [binary, "copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false", *args]
    subprocess.run(command, check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def porter_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_registry(tmp_path_factory.mktemp("registry") / "data") as process:
        yield host_of(process.url)


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's docker-registry (CNCF distribution 2.x) on a free loopback port."""
    with running_distribution(tmp_path_factory.mktemp("distribution")) as host:
        yield host


@pytest.fixture(params=["porter-registry", "distribution"])
def registry(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param.replace("-", "_")))


def test_what_porter_image_pushes_skopeo_pulls_with_the_same_digest(
    registry: str, busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    pushed = copy_image(f"oci:{layout}:{tag}", f"docker://{registry}/interop/by-porter:1")
    skopeo(f"docker://{registry}/interop/by-porter:1", f"oci:{tmp_path / 'out'}:v1")
    assert Layout.open(tmp_path / "out").resolve("v1").digest == pushed.digest


def test_what_skopeo_pushes_porter_image_pulls_with_the_same_digest(
    registry: str, busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    skopeo(f"oci:{layout}:{tag}", f"docker://{registry}/interop/by-skopeo:1")
    pulled = copy_image(f"docker://{registry}/interop/by-skopeo:1", f"oci:{tmp_path / 'out'}:v1")
    assert pulled.digest == Layout.open(layout).resolve(tag).digest
    assert Layout.open(tmp_path / "out").fsck() == []


def _push_signature(registry: str, subject: Descriptor, tmp_path: Path) -> Repository:
    artifacts = Layout.create(tmp_path / "artifacts")
    signature = make_signature(artifacts, "sig", subject)
    copy_image(
        f"oci:{artifacts.path}:sig", f"docker://{registry}/interop/signed@{signature.digest}"
    )
    reference = parse_docker_reference(f"{registry}/interop/signed")
    return open_repository(reference, RegistryOptions(stored_credentials=False))


def test_referrers_fall_back_to_the_tag_schema_where_the_api_is_missing(
    distribution: str, busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    subject = Layout.open(layout).resolve(tag)
    copy_image(f"oci:{layout}:{tag}", f"docker://{distribution}/interop/signed:1")
    repository = _push_signature(distribution, subject, tmp_path)
    # distribution 2.x has no referrers API: a client that pushes an artifact with a subject
    # there maintains the sha256-<hex> tag index, as the distribution-spec asks of clients.
    found = repository.referrers(subject.digest)
    assert [d.artifact_type for d in found] == [SIGNATURE_TYPE]
