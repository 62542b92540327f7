"""Settings the registry client reads: challenges, TLS from certs.d, stored credentials."""

from __future__ import annotations

import base64
import json
import ssl
import stat
from pathlib import Path

import pytest
from porter_image.credentials import (
    CredentialsError,
    erase_credentials,
    find_credentials,
    store_credentials,
)
from porter_image.distribution.auth import Credentials, parse_challenge
from porter_image.distribution.client import RegistryClient, RegistryOptions
from porter_image.distribution.session import HttpSession
from porter_image.distribution.tls import is_loopback, tls_settings


def test_a_bearer_challenge_gives_realm_service_and_scopes() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry",'
        'scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope"'
    )
    assert challenge is not None and challenge.scheme == "bearer"
    assert challenge.params["realm"] == "https://auth.example/token"
    assert challenge.scopes == ("repository:a/b:pull,push", "repository:c:pull")


def test_a_quoted_challenge_value_keeps_escaped_quotes() -> None:
    challenge = parse_challenge(r'Basic realm="say \"hi\""')
    assert challenge is not None and challenge.params["realm"] == 'say "hi"'


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:5000", True),
        ("127.9.9.9", True),
        ("localhost:5000", True),
        ("[::1]:5000", True),
        ("registry.example:5000", False),
        ("10.0.0.1", False),
    ],
)
def test_loopback_hosts_may_use_plain_http(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    assert RegistryOptions().allows_plain_http(host) is loopback


def test_listed_insecure_registries_may_use_plain_http() -> None:
    options = RegistryOptions(insecure_registries=("registry.example:5000",))
    assert options.allows_plain_http("registry.example:5000")


def test_certs_d_adds_the_hosts_ca_to_the_system_cas(tmp_path: Path) -> None:
    folder = tmp_path / "registry.example:5000"
    folder.mkdir()
    (folder / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nOURS\n-----END CERTIFICATE-----\n")
    settings = tls_settings("registry.example:5000", True, tmp_path)
    assert isinstance(settings.verify, str)
    bundle = Path(settings.verify).read_text()
    assert "OURS" in bundle and bundle.count("BEGIN CERTIFICATE") > 1


def test_certs_d_gives_the_client_certificate(tmp_path: Path) -> None:
    folder = tmp_path / "registry.example"
    folder.mkdir()
    (folder / "client.cert").write_text("cert")
    (folder / "client.key").write_text("key")
    settings = tls_settings("registry.example", True, tmp_path)
    assert settings.verify is True
    assert settings.cert == (str(folder / "client.cert"), str(folder / "client.key"))


# -- stored credentials ---------------------------------------------------------------------


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "auth.json"))
    return tmp_path / "docker" / "config.json"


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_stored_credentials_are_found_by_host(docker_config: Path) -> None:
    store_credentials("registry.example:5000", Credentials("alice", "pw"))
    assert find_credentials("registry.example:5000") == Credentials("alice", "pw")
    assert find_credentials("other.example") is None
    assert stat.S_IMODE(docker_config.stat().st_mode) == 0o600


def test_docker_hub_credentials_live_under_its_v1_url(docker_config: Path) -> None:
    store_credentials("docker.io", Credentials("alice", "pw"))
    assert list(json.loads(docker_config.read_text())["auths"]) == ["https://index.docker.io/v1/"]
    assert find_credentials("registry-1.docker.io") == Credentials("alice", "pw")


def test_an_auths_key_with_scheme_and_path_matches_its_host(docker_config: Path) -> None:
    docker_config.parent.mkdir()
    auths = {"https://registry.example:5000/v2/": {"auth": _auth("bob", "pw")}}
    docker_config.write_text(json.dumps({"auths": auths}))
    assert find_credentials("registry.example:5000") == Credentials("bob", "pw")


def test_podman_auth_json_is_read_after_dockers(docker_config: Path, tmp_path: Path) -> None:
    (tmp_path / "auth.json").write_text(
        json.dumps({"auths": {"registry.example": {"auth": _auth("carol", "pw")}}})
    )
    assert find_credentials("registry.example") == Credentials("carol", "pw")


def test_a_password_with_colons_is_kept_whole(docker_config: Path) -> None:
    store_credentials("registry.example", Credentials("alice", "a:b:c"))
    assert find_credentials("registry.example") == Credentials("alice", "a:b:c")


def test_a_malformed_auth_entry_is_one_clear_error(docker_config: Path) -> None:
    docker_config.parent.mkdir()
    docker_config.write_text(json.dumps({"auths": {"registry.example": {"auth": "!!"}}}))
    with pytest.raises(CredentialsError, match="not base64 of user:password"):
        find_credentials("registry.example")


def test_a_config_that_is_not_json_is_one_clear_error(docker_config: Path) -> None:
    docker_config.parent.mkdir()
    docker_config.write_text("{")
    with pytest.raises(CredentialsError, match="cannot be read"):
        find_credentials("registry.example")


def test_erase_removes_only_that_host(docker_config: Path) -> None:
    store_credentials("a.example", Credentials("alice", "pw"))
    store_credentials("b.example", Credentials("bob", "pw"))
    assert erase_credentials("a.example") is True
    assert erase_credentials("a.example") is False
    assert find_credentials("b.example") == Credentials("bob", "pw")


def test_a_missing_credential_helper_is_one_clear_error(docker_config: Path) -> None:
    docker_config.parent.mkdir()
    docker_config.write_text(json.dumps({"credsStore": "porter-no-such-helper"}))
    with pytest.raises(CredentialsError, match="not found in PATH"):
        find_credentials("registry.example")


def test_the_proxy_variables_give_a_hosts_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    session = HttpSession()
    assert session.environment_proxies("https://registry.example/v2/")["https"] == (
        "http://proxy.example:3128"
    )
    assert session.environment_proxies("https://direct.example/v2/") == {}


def test_a_session_reads_the_proxy_variables_once_per_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    session = HttpSession()
    first = session.environment_proxies("https://registry.example/v2/a")
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:3128")
    assert session.environment_proxies("https://registry.example/v2/b") == first
    assert session.environment_proxies("https://another.example/")["https"] == (
        "http://other.example:3128"
    )


def https_context(client: RegistryClient) -> ssl.SSLContext:
    """The SSL context the client's HTTPS connections are made with."""
    return client.session.ssl_context


def test_an_unverified_client_loads_no_ca_certificates(tmp_path: Path) -> None:
    client = RegistryClient("127.0.0.1:5000", RegistryOptions(certs_dir=tmp_path))
    context = https_context(client)
    assert context.verify_mode == ssl.CERT_NONE
    assert context.cert_store_stats()["x509_ca"] == 0


def test_a_verifying_client_checks_certificates_and_host_names(tmp_path: Path) -> None:
    client = RegistryClient("registry.example", RegistryOptions(certs_dir=tmp_path))
    context = https_context(client)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
