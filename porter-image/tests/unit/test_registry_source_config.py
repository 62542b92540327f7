"""How a registry source reads the config a manifest names: whole, checked, a JSON object."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from http_test_server import reply, serving
from porter_image.distribution.client import RegistryOptions
from porter_image.distribution.errors import ManifestRefusedError
from porter_image.distribution.manifests import RawManifest
from porter_image.endpoints.registry import RegistrySource
from porter_image.reference import parse_docker_reference
from porter_specs.digest import from_bytes
from porter_specs.errors import DigestMismatchError
from porter_specs.media_types import IMAGE_CONFIG, IMAGE_MANIFEST

pytestmark = pytest.mark.usefixtures("no_stored_credentials")


def manifest_of(config: dict[str, Any] | None) -> RawManifest:
    """A manifest naming `config` as its config descriptor (none when None)."""
    document: dict[str, Any] = {"schemaVersion": 2, "mediaType": IMAGE_MANIFEST, "layers": []}
    if config is not None:
        document["config"] = config
    data = json.dumps(document).encode()
    return RawManifest(data, IMAGE_MANIFEST, from_bytes(data))


def promising(data: bytes) -> RawManifest:
    """A manifest whose config descriptor promises exactly `data`."""
    return manifest_of(
        {"mediaType": IMAGE_CONFIG, "digest": str(from_bytes(data)), "size": len(data)}
    )


@contextmanager
def source_serving(blob: bytes) -> Iterator[RegistrySource]:
    """A source for a registry on loopback that answers every blob request with `blob`."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 200, blob, Content_Type="application/octet-stream")

    with serving(answer) as (url, _):
        reference = parse_docker_reference(f"{url.removeprefix('http://')}/a/app:v1")
        source = RegistrySource(reference, RegistryOptions(retries=0))
        try:
            yield source
        finally:
            source.close()


def test_a_config_is_read_as_the_json_object_it_holds() -> None:
    config = json.dumps({"architecture": "arm64", "os": "linux"}).encode()
    with source_serving(config) as source:
        assert source.read_config(promising(config)) == {"architecture": "arm64", "os": "linux"}


def test_a_config_whose_bytes_are_not_the_promised_digest_is_refused() -> None:
    promised, served = b'{"os":"linux"}', b'{"os":"plan9"}'  # the same size
    with source_serving(served) as source, pytest.raises(DigestMismatchError):
        source.read_config(promising(promised))


@pytest.mark.parametrize("document", [b"not json", b"{", b"\x80\x81 not utf-8"])
def test_a_config_that_is_not_json_is_refused(document: bytes) -> None:
    with (
        source_serving(document) as source,
        pytest.raises(ManifestRefusedError, match="config is not JSON"),
    ):
        source.read_config(promising(document))


@pytest.mark.parametrize("document", [b"[]", b'"linux"', b"42", b"null"])
def test_a_config_that_is_json_but_not_an_object_is_refused(document: bytes) -> None:
    with (
        source_serving(document) as source,
        pytest.raises(ManifestRefusedError, match="config is not a JSON object"),
    ):
        source.read_config(promising(document))


@pytest.mark.parametrize("config", [None, "sha256:abc", {"mediaType": IMAGE_CONFIG}])
def test_a_manifest_without_a_valid_config_descriptor_is_refused(config: Any) -> None:
    with (
        source_serving(b"{}") as source,
        pytest.raises(ManifestRefusedError, match="no valid config descriptor"),
    ):
        source.read_config(manifest_of(config))
