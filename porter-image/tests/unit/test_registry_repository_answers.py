"""What a repository makes of answers a registry should not give."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest
from http_test_server import reply, serving
from porter_image.distribution.client import RegistryClient
from porter_image.distribution.errors import RegistryError
from porter_image.distribution.repository import Repository
from porter_image.distribution.uploads import held_bytes
from porter_specs.digest import from_bytes
from porter_specs.media_types import IMAGE_MANIFEST
from porter_specs.models import Descriptor

pytestmark = pytest.mark.usefixtures("no_stored_credentials")

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": IMAGE_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "a" * 64,
            "size": 2,
        },
        "layers": [],
    }
).encode()


@pytest.mark.parametrize("length", ["lots", "-1", ""])
def test_a_head_without_a_usable_content_length_is_asked_again_by_get(length: str) -> None:
    digest = str(from_bytes(MANIFEST))

    def answer(handler: BaseHTTPRequestHandler) -> None:
        if handler.command == "HEAD":
            handler.send_response(200)
            handler.send_header("Docker-Content-Digest", digest)
            handler.send_header("Content-Type", IMAGE_MANIFEST)
            if length:
                handler.send_header("Content-Length", length)
            handler.end_headers()
            handler.close_connection = True
        else:
            reply(handler, 200, MANIFEST, Content_Type=IMAGE_MANIFEST)

    with serving(answer) as (url, _), RegistryClient(url.removeprefix("http://")) as client:
        descriptor = Repository(client, "a").head_manifest("v1")
    assert descriptor is not None
    assert (str(descriptor.digest), descriptor.size) == (digest, len(MANIFEST))


@pytest.mark.parametrize("length", ["\u00b2", "9" * 5000, "2.0"])
def test_a_blob_content_length_that_is_no_count_is_one_error_line(length: str) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 200, b"{}", Content_Length=length)
        handler.close_connection = True

    descriptor = Descriptor("application/octet-stream", from_bytes(b"{}"), 2)
    refused = pytest.raises(RegistryError, match="differs from the size 2")
    with serving(answer) as (url, _), RegistryClient(url[7:]) as client, refused:
        Repository(client, "a").open_blob(descriptor)


@pytest.mark.parametrize("header", ["0-\u00b2", "0-" + "9" * 5000, "0-x"])
def test_an_upload_range_that_is_no_count_holds_nothing(header: str) -> None:
    assert held_bytes(header) == 0
