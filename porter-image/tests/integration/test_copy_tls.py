"""A registry serving TLS on loopback is reached over HTTPS (docker skips verification for
loopback, as for a listed insecure registry); a refused handshake is one clear error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from porter_image.copy import copy_image
from porter_image.distribution.client import RegistryClient, RegistryOptions
from porter_image.distribution.errors import RegistryUnavailableError
from porter_image.layout import Layout
from registry_support import host_of, running_registry
from tls_support import Authority

pytestmark = pytest.mark.usefixtures("no_stored_credentials")


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[str]:
    pair = Authority(tmp_path / "certs").issue("registry", server=True)
    tls = ("--tls-cert", str(pair.cert), "--tls-key", str(pair.key))
    with running_registry(tmp_path / "data", *tls) as r:
        assert r.url.startswith("https://")
        yield host_of(r.url)


def test_a_loopback_tls_registry_is_pushed_to_and_pulled_from_over_https(
    tls_registry: str, busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    pushed = copy_image(f"oci:{layout}:{tag}", f"docker://{tls_registry}/tls/bb:1")
    pulled = copy_image(f"docker://{tls_registry}/tls/bb:1", f"oci:{tmp_path / 'out'}:v1")
    assert pulled.digest == pushed.digest == Layout.open(layout).resolve(tag).digest
    with RegistryClient(tls_registry) as client:
        assert client.base_url == f"https://{tls_registry}"


def test_a_registry_that_refuses_every_scheme_is_one_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    client = RegistryClient(f"127.0.0.1:{port}", RegistryOptions(retries=0))
    with pytest.raises(RegistryUnavailableError, match="connection refused"):
        client.base_url  # noqa: B018
