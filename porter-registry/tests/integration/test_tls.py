"""`--tls-cert/--tls-key`: HTTPS that clients verify against the issuing CA."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import resource
import socket
import ssl
import threading
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from porter_registry.server import TlsFrontend
from push_support import digest_of
from registry_process import RegistryProcess, running_registry

pytestmark = pytest.mark.integration


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signer, *, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) for 127.0.0.1."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(_name("test CA"), _name("test CA"), ca_key.public_key(), ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(_name("127.0.0.1"), ca.subject, key.public_key(), ca_key, ca=False)
    pem = serialization.Encoding.PEM
    paths = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture
def tls_server(tmp_path: Path, tls_files: tuple[Path, Path, Path]):
    _, cert, key = tls_files
    with running_registry(
        tmp_path / "data", "--tls-cert", str(cert), "--tls-key", str(key)
    ) as registry:
        yield registry


def test_https_url_is_announced_and_verified_against_the_ca(
    tls_server: RegistryProcess, tls_files: tuple[Path, Path, Path]
) -> None:
    assert tls_server.url.startswith("https://127.0.0.1:")
    response = requests.get(f"{tls_server.url}/v2/", verify=str(tls_files[0]), timeout=10)
    assert response.status_code == 200


def test_client_without_the_ca_refuses_the_certificate(tls_server: RegistryProcess) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{tls_server.url}/v2/", timeout=10)


def test_chunked_upload_and_pull_over_tls(
    tls_server: RegistryProcess, tls_files: tuple[Path, Path, Path]
) -> None:
    ca = str(tls_files[0])
    data = hashlib.sha256(b"tls").digest() * 100_000
    start = requests.post(f"{tls_server.url}/v2/secure/blobs/uploads/", verify=ca, timeout=10)
    location = tls_server.url + start.headers["Location"]
    body = iter([data[:1_000_000], data[1_000_000:]])  # sent with Transfer-Encoding: chunked
    patched = requests.patch(location, data=body, verify=ca, timeout=30)
    assert patched.status_code == 202
    done = requests.put(
        tls_server.url + patched.headers["Location"],
        params={"digest": digest_of(data)},
        verify=ca,
        timeout=30,
    )
    assert done.status_code == 201
    pulled = requests.get(
        f"{tls_server.url}/v2/secure/blobs/{digest_of(data)}", verify=ca, timeout=30
    )
    assert pulled.content == data


def test_plain_http_to_the_tls_port_gets_no_api(tls_server: RegistryProcess) -> None:
    plain = tls_server.url.replace("https://", "http://")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{plain}/v2/", timeout=10)


def test_failed_handshake_does_not_stop_the_server(
    tls_server: RegistryProcess, tls_files: tuple[Path, Path, Path]
) -> None:
    context = ssl.create_default_context()  # does not trust the test CA
    host, port = tls_server.url.removeprefix("https://").split(":")
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        pytest.raises(ssl.SSLError),
    ):
        context.wrap_socket(raw, server_hostname=host)
    assert requests.get(f"{tls_server.url}/v2/", verify=str(tls_files[0]), timeout=10).ok


def test_the_tls_frontend_relays_a_connection_whose_descriptors_are_past_1023(
    tls_files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """A busy registry holds more than 1024 descriptors; the relay must still wait on them."""
    ca, cert, key = tls_files
    backend = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    backend.bind(str(tmp_path / "echo.sock"))
    backend.listen()

    def echo_once() -> None:
        conn, _ = backend.accept()
        with conn:
            conn.sendall(conn.recv(64).upper())

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the descriptor limit ({hard}) does not pass 1200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    frontend = TlsFrontend(("127.0.0.1", 0), context, str(tmp_path / "echo.sock"))
    threads = [threading.Thread(target=t, daemon=True) for t in (echo_once, frontend.serve_forever)]
    try:
        for thread in threads:
            thread.start()
        client_context = ssl.create_default_context(cafile=str(ca))
        raw = socket.create_connection(("127.0.0.1", frontend.port), timeout=10)
        with client_context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"ping")
            assert tls.recv(64) == b"PING"
    finally:
        frontend.close()
        backend.close()
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
