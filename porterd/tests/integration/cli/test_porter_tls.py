"""porter over TCP with mutual TLS against a real daemon (dockerd and porterd), with the CA and
certificates `porter tls init` made for both sides."""

from __future__ import annotations

import pytest
from cli_daemons import Target

pytestmark = pytest.mark.integration


def tls_flags(target: Target) -> list[str]:
    certs = target.certs
    return [
        "-H", target.tcp_host, "--tlsverify", "--tlscacert", str(certs / "ca.pem"),
        "--tlscert", str(certs / "cert.pem"), "--tlskey", str(certs / "key.pem"),
    ]  # fmt: skip


def test_porter_reaches_the_daemon_with_its_client_certificate(target: Target) -> None:
    result = target.porter_in_namespace(
        *tls_flags(target), "version", "--format", "{{.Server.ApiVersion}}"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("1.")


def test_stdin_piped_over_tls_ends_and_the_output_comes_back(target: Target) -> None:
    run = ["run", "-i", "--rm", "--network", "none", target.image, "tr", "a-z", "A-Z"]
    result = target.porter_in_namespace(*tls_flags(target), *run, input="over tls\n")
    assert (result.returncode, result.stdout) == (0, "OVER TLS\n"), result.stderr


def test_a_context_with_the_certificates_reaches_the_daemon(target: Target) -> None:
    certs = target.certs
    spec = f"host={target.tcp_host},ca={certs}/ca.pem,cert={certs}/cert.pem,key={certs}/key.pem"
    name = target.name("ctx")
    assert target.porter_in_namespace("context", "create", name, "--docker", spec).returncode == 0
    try:
        result = target.porter_in_namespace("--context", name, "ps", "-a", "-q")
        assert result.returncode == 0, result.stderr
    finally:
        target.porter_in_namespace("context", "rm", name)


def test_without_a_client_certificate_the_daemon_refuses(target: Target) -> None:
    result = target.porter_in_namespace(
        "-H", target.tcp_host, "--tlsverify", "--tlscacert", str(target.certs / "ca.pem"), "ps"
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"porter: cannot connect to the daemon at {target.tcp_host}")
    assert len(result.stderr.splitlines()) == 1
