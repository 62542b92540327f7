"""TLS as docker reads it from `/etc/docker/certs.d/HOST:PORT/`, end to end against real
registries on loopback serving TLS: the CA in `ca.crt` verifies the registry (a real
porter-registry), and `client.cert` with `client.key` is presented to a registry that asks for
a client certificate (Debian's docker-registry: porter-registry asks for none). The certs.d
root is a folder of the test's (`certs_dir`, the library's side of `--cert-dir`); nothing is
written under the host's /etc/docker.

A loopback host given by address is reached without verification, as docker allows, so the
registries are reached by this machine's name, which resolves to a loopback address."""

from __future__ import annotations

import ipaddress
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from image_test_support import make_image
from porter_image.cli.main import cli
from porter_image.copy import CopyOptions, copy_image
from porter_image.distribution.errors import RegistryError
from porter_image.distribution.tls import is_loopback
from porter_image.layout import Layout
from registry_support import host_of, running_distribution, running_registry
from tls_support import Authority


def loopback_name() -> tuple[str, str] | None:
    """This machine's name and the loopback address it resolves to, where it does (and the
    client does not take the name itself for loopback)."""
    name = socket.gethostname()
    try:
        address = socket.gethostbyname(name)
    except OSError:
        return None
    if is_loopback(name) or not ipaddress.ip_address(address).is_loopback:
        return None
    return name, address


LOOPBACK = loopback_name()
pytestmark = [
    pytest.mark.usefixtures("no_stored_credentials"),
    pytest.mark.skipif(
        LOOPBACK is None,
        reason="this machine's name does not resolve to a loopback address, so no loopback "
        "registry can be reached by a name whose certificate is verified",
    ),
]


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path / "ca")


@pytest.fixture
def image(tmp_path: Path) -> Layout:
    layout = Layout.create(tmp_path / "image")
    make_image(layout, "v1")
    return layout


def by_name(host: str) -> str:
    """`NAME:PORT` of an `ADDRESS:PORT` on loopback."""
    assert LOOPBACK is not None
    return f"{LOOPBACK[0]}:{host.rsplit(':', 1)[1]}"


def certs_d(root: Path, host: str, authority: Authority, client: bool = False) -> Path:
    """`root/HOST:PORT/` holding ca.crt, and client.cert and client.key if `client`."""
    folder = root / host
    folder.mkdir(parents=True)
    shutil.copyfile(authority.pair.cert, folder / "ca.crt")
    if client:
        pair = authority.issue("porter-image-client", server=False)
        shutil.copyfile(pair.cert, folder / "client.cert")
        shutil.copyfile(pair.key, folder / "client.key")
    return root


@pytest.fixture
def tls_registry(tmp_path: Path, authority: Authority) -> Iterator[str]:
    """A porter-registry serving TLS with a certificate of `authority`, as `NAME:PORT`."""
    assert LOOPBACK is not None
    pair = authority.issue("registry", server=True, names=(LOOPBACK[0],))
    tls = ("--tls-cert", str(pair.cert), "--tls-key", str(pair.key))
    with running_registry(tmp_path / "data", *tls, listen=f"{LOOPBACK[1]}:0") as registry:
        assert registry.url.startswith("https://")
        yield by_name(host_of(registry.url))


@pytest.fixture
def mutual_tls_registry(tmp_path: Path, authority: Authority) -> Iterator[str]:
    """Debian's docker-registry serving TLS and asking for a client certificate of
    `authority`, as `NAME:PORT`."""
    assert LOOPBACK is not None
    pair = authority.issue("registry", server=True, names=(LOOPBACK[0],))
    folder = tmp_path / "distribution"
    folder.mkdir()
    tls = (
        f"  tls:\n    certificate: {pair.cert}\n    key: {pair.key}\n"
        f"    clientcas:\n      - {authority.pair.cert}\n"
    )
    with running_distribution(folder, tls, address=LOOPBACK[1]) as host:
        yield by_name(host)


def push_and_pull(image: Layout, host: str, certs: Path, out: Path) -> tuple[str, str]:
    options = CopyOptions(certs_dir=certs, retries=0)
    pushed = copy_image(f"oci:{image.path}:v1", f"docker://{host}/tls/app:1", options)
    pulled = copy_image(f"docker://{host}/tls/app:1", f"oci:{out}:v1", options)
    return str(pushed.digest), str(pulled.digest)


def test_the_ca_in_certs_d_verifies_the_registry(
    tls_registry: str, authority: Authority, image: Layout, tmp_path: Path
) -> None:
    certs = certs_d(tmp_path / "certs.d", tls_registry, authority)
    pushed, pulled = push_and_pull(image, tls_registry, certs, tmp_path / "out")
    assert pushed == pulled == str(image.resolve("v1").digest)


def test_a_registry_whose_ca_is_not_in_certs_d_is_refused(
    tls_registry: str, image: Layout, tmp_path: Path
) -> None:
    options = CopyOptions(certs_dir=tmp_path / "empty-certs.d", retries=0)
    with pytest.raises(RegistryError, match="certificate verify failed") as refused:
        copy_image(f"oci:{image.path}:v1", f"docker://{tls_registry}/tls/app:1", options)
    where = tmp_path / "empty-certs.d" / tls_registry / "ca.crt"
    assert str(where) in str(refused.value) and "\n" not in str(refused.value)


def test_a_ca_in_certs_d_of_another_host_does_not_verify_this_one(
    tls_registry: str, authority: Authority, image: Layout, tmp_path: Path
) -> None:
    certs = certs_d(tmp_path / "certs.d", "other.example:5000", authority)
    options = CopyOptions(certs_dir=certs, retries=0)
    with pytest.raises(RegistryError, match="certificate verify failed"):
        copy_image(f"oci:{image.path}:v1", f"docker://{tls_registry}/tls/app:1", options)


def test_the_client_certificate_in_certs_d_is_presented(
    mutual_tls_registry: str, authority: Authority, image: Layout, tmp_path: Path
) -> None:
    certs = certs_d(tmp_path / "certs.d", mutual_tls_registry, authority, client=True)
    pushed, pulled = push_and_pull(image, mutual_tls_registry, certs, tmp_path / "out")
    assert pushed == pulled == str(image.resolve("v1").digest)


def test_a_registry_asking_for_a_client_certificate_refuses_a_client_without_one(
    mutual_tls_registry: str, authority: Authority, image: Layout, tmp_path: Path
) -> None:
    certs = certs_d(tmp_path / "certs.d", mutual_tls_registry, authority)
    options = CopyOptions(certs_dir=certs, retries=0)
    with pytest.raises(RegistryError, match="TLS failed") as refused:
        copy_image(f"oci:{image.path}:v1", f"docker://{mutual_tls_registry}/tls/app:1", options)
    where = certs / mutual_tls_registry / "client.cert"
    assert str(where) in str(refused.value) and "\n" not in str(refused.value)


def test_copy_takes_the_certs_d_root_from_cert_dir(
    mutual_tls_registry: str, authority: Authority, image: Layout, tmp_path: Path
) -> None:
    certs = certs_d(tmp_path / "certs.d", mutual_tls_registry, authority, client=True)
    target = f"docker://{mutual_tls_registry}/tls/cli:1"
    copied = CliRunner().invoke(
        cli, ["copy", "-q", "--cert-dir", str(certs), f"oci:{image.path}:v1", target]
    )
    assert copied.exit_code == 0, copied.output
    refused = CliRunner().invoke(
        cli, ["copy", "-q", "--cert-dir", str(tmp_path / "none"), f"oci:{image.path}:v1", target]
    )
    assert refused.exit_code != 0 and "TLS failed" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
