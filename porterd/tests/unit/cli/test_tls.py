"""Mutual TLS: `porter tls init` makes a CA, a server and a client certificate; porter talks
to a daemon on TCP that demands a client certificate signed by that CA, and nothing else."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from porter_fake_engine import PORTER, FakeEngine


@pytest.fixture
def certs(tmp_path: Path, porter_env: dict[str, str]) -> Path:
    folder = tmp_path / "certs"
    result = subprocess.run(
        [str(PORTER), "tls", "init", "--dir", str(folder)],
        capture_output=True,
        text=True,
        env=porter_env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def tls_engine(certs: Path) -> Iterator[FakeEngine]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs / "ca.pem"))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(str(certs / "server-cert.pem"), str(certs / "server-key.pem"))
    fake = FakeEngine()
    fake.host = fake.serve_tls(context)  # type: ignore[attr-defined]
    fake.json("GET", "/containers/json", [])
    try:
        yield fake
    finally:
        fake.close()


def client_flags(host: str, ca: Path, certs: Path) -> list[str]:
    return [
        "-H", host, "--tlsverify", "--tlscacert", str(ca),
        "--tlscert", str(certs / "cert.pem"), "--tlskey", str(certs / "key.pem"),
    ]  # fmt: skip


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PORTER), *args], capture_output=True, text=True, env=env, timeout=60)


def test_tls_init_writes_keys_readable_by_the_owner_only(certs: Path) -> None:
    assert sorted(p.name for p in certs.iterdir()) == sorted(
        ["ca.pem", "ca-key.pem", "server-cert.pem", "server-key.pem", "cert.pem", "key.pem"]
    )
    assert (certs / "key.pem").stat().st_mode & 0o777 == 0o600
    assert (certs / "ca.pem").stat().st_mode & 0o777 == 0o644


def test_tls_init_keeps_existing_files_without_force(
    certs: Path, porter_env: dict[str, str]
) -> None:
    before = (certs / "ca.pem").read_bytes()
    result = run(porter_env, "tls", "init", "--dir", str(certs))
    assert result.returncode == 1 and "already exists" in result.stderr
    assert (certs / "ca.pem").read_bytes() == before


def test_porter_reaches_the_daemon_with_its_client_certificate(
    tls_engine: FakeEngine, certs: Path, porter_env: dict[str, str]
) -> None:
    host = tls_engine.host  # type: ignore[attr-defined]
    result = run(porter_env, *client_flags(host, certs / "ca.pem", certs), "ps")
    assert result.returncode == 0, result.stderr
    assert tls_engine.seen("GET", "/containers/json")


def test_the_default_files_come_from_the_config_folder(
    tls_engine: FakeEngine, certs: Path, porter_env: dict[str, str]
) -> None:
    result = run(
        {
            **porter_env,
            "PORTER_CONFIG": str(certs),
            "PORTER_HOST": tls_engine.host,
            "PORTER_TLS_VERIFY": "1",
        },
        "ps",
    )  # type: ignore[attr-defined]
    assert result.returncode == 0, result.stderr


def test_without_a_client_certificate_the_daemon_refuses(
    tls_engine: FakeEngine, certs: Path, porter_env: dict[str, str]
) -> None:
    result = run(
        porter_env, "-H", tls_engine.host, "--tlsverify", "--tlscacert", str(certs / "ca.pem"), "ps"
    )  # type: ignore[attr-defined]
    assert result.returncode == 1
    assert result.stderr.startswith("porter: cannot connect to the daemon at tcp://")
    assert not tls_engine.seen("GET", "/containers/json")


def test_a_daemon_certificate_from_another_ca_is_refused(
    tls_engine: FakeEngine, certs: Path, porter_env: dict[str, str], tmp_path: Path
) -> None:
    other = tmp_path / "other"
    assert run(porter_env, "tls", "init", "--dir", str(other)).returncode == 0
    host = tls_engine.host  # type: ignore[attr-defined]
    result = run(porter_env, *client_flags(host, other / "ca.pem", certs), "ps")
    assert result.returncode == 1 and "certificate verify failed" in result.stderr


def test_a_context_keeps_copies_of_its_tls_files(
    tls_engine: FakeEngine, certs: Path, porter_env: dict[str, str]
) -> None:
    spec = f"host={tls_engine.host},ca={certs}/ca.pem,cert={certs}/cert.pem,key={certs}/key.pem"  # type: ignore[attr-defined]
    assert run(porter_env, "context", "create", "remote", "--docker", spec).returncode == 0
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (certs / name).unlink()
    result = run(porter_env, "--context", "remote", "ps")
    assert result.returncode == 0, result.stderr


def test_stdin_ends_over_tls_and_the_output_still_arrives(
    tls_engine: FakeEngine, certs: Path, porter_env: dict[str, str]
) -> None:
    import socket

    from porter_cli.client.stream import STDOUT, frame
    from porter_fake_engine import Reply

    def cat(sock: socket.socket, _request: object) -> None:
        received = b""
        while chunk := sock.recv(100):  # ends at the client's close_notify
            received += chunk
        sock.sendall(frame(STDOUT, received.upper()))
        sock.close()

    tls_engine.json("POST", "/containers/create", {"Id": "c1"}, 201)
    tls_engine.json("POST", "/containers/c1/start", None, 204)
    tls_engine.route("POST", "/containers/c1/attach", lambda r: Reply(hijack=cat))
    tls_engine.json("POST", "/containers/c1/wait", {"StatusCode": 0})
    host = tls_engine.host  # type: ignore[attr-defined]
    argv = [
        str(PORTER),
        *client_flags(host, certs / "ca.pem", certs),
        "run",
        "-i",
        "busybox",
        "cat",
    ]
    result = subprocess.run(
        argv, input="over tls\n", capture_output=True, text=True, env=porter_env, timeout=60
    )
    assert (result.returncode, result.stdout) == (0, "OVER TLS\n"), result.stderr
