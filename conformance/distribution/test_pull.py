"""Pull workflow: manifests and blobs by tag and digest, HEAD, Range, and the 404s."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from distribution_conformance.checks import (
    describe,
    expect_digest_header,
    expect_error,
    expect_spec_error_if_json,
    expect_status,
)
from distribution_conformance.content import (
    OCI_MANIFEST,
    Blob,
    Document,
    image_manifest,
    random_blob,
    random_digest,
    random_suffix,
)
from distribution_conformance.operations import push_blob, push_image

pytestmark = [pytest.mark.integration, pytest.mark.workflow("pull")]

RANGED_SIZE = 2048


@dataclass(frozen=True)
class PullContent:
    tag: str
    tagged: Document
    by_digest: Document
    ranged: Blob


@pytest.fixture(scope="module")
def content(client, namespace) -> PullContent:
    """One image pushed by tag, one by digest, and a 2 KiB blob for range requests."""
    tag = f"pull-{random_suffix()}"
    tagged = image_manifest()
    by_digest = image_manifest()
    ranged = random_blob(RANGED_SIZE)
    push_image(client, namespace, tagged, tag)
    push_image(client, namespace, by_digest)
    push_blob(client, namespace, ranged)
    return PullContent(tag, tagged, by_digest, ranged)


def test_api_base_answers_200(client):
    expect_status(client.get("/v2/"), 200)


def test_blob_head_answers_200_with_digest_and_length(client, namespace, content):
    config = content.tagged.blobs[0]
    response = client.head(f"/v2/{namespace}/blobs/{config.digest}")
    expect_status(response, 200)
    expect_digest_header(response, config.digest)
    assert response.headers.get("Content-Length") == str(config.size), describe(response)


def test_blob_head_of_missing_blob_answers_404(client, namespace):
    expect_status(client.head(f"/v2/{namespace}/blobs/{random_digest()}"), 404)


def test_blob_get_returns_the_exact_bytes(client, namespace, content):
    layer = content.tagged.blobs[1]
    response = client.get(f"/v2/{namespace}/blobs/{layer.digest}")
    expect_status(response, 200)
    expect_digest_header(response, layer.digest)
    assert response.content == layer.data


def test_blob_get_of_missing_blob_answers_404_blob_unknown(client, namespace):
    expect_error(client.get(f"/v2/{namespace}/blobs/{random_digest()}"), 404, "BLOB_UNKNOWN")


# Range requests as the official suite's newer runner checks them (RFC 9110).
SATISFIABLE_RANGES = {
    "500-1499": (500, 1499),
    "500-": (500, RANGED_SIZE - 1),
    "-500": (RANGED_SIZE - 500, RANGED_SIZE - 1),
    "2000-5000": (2000, RANGED_SIZE - 1),
}


@pytest.mark.parametrize("spec", list(SATISFIABLE_RANGES), ids=list(SATISFIABLE_RANGES))
def test_blob_range_request_answers_206_with_the_slice(client, namespace, content, spec):
    first, last = SATISFIABLE_RANGES[spec]
    response = client.get(
        f"/v2/{namespace}/blobs/{content.ranged.digest}", headers={"Range": f"bytes={spec}"}
    )
    expect_status(response, 206)
    assert response.content == content.ranged.data[first : last + 1]
    assert response.headers.get("Content-Length") == str(last - first + 1), describe(response)
    assert response.headers.get("Content-Range") in (
        f"bytes {first}-{last}/{RANGED_SIZE}",
        f"bytes {first}-{last}/*",
    ), describe(response)


@pytest.mark.parametrize("spec", ["500-0", "5000-10000"])
def test_blob_unsatisfiable_range_answers_416(client, namespace, content, spec):
    response = client.get(
        f"/v2/{namespace}/blobs/{content.ranged.digest}", headers={"Range": f"bytes={spec}"}
    )
    expect_status(response, 416)


def test_manifest_head_by_tag_answers_200_with_digest(client, namespace, content):
    response = client.head(
        f"/v2/{namespace}/manifests/{content.tag}", headers={"Accept": OCI_MANIFEST}
    )
    expect_status(response, 200)
    expect_digest_header(response, content.tagged.digest)


def test_manifest_head_by_digest_answers_200_with_digest_and_length(client, namespace, content):
    document = content.by_digest
    response = client.head(
        f"/v2/{namespace}/manifests/{document.digest}", headers={"Accept": OCI_MANIFEST}
    )
    expect_status(response, 200)
    expect_digest_header(response, document.digest)
    assert response.headers.get("Content-Length") == str(document.size), describe(response)


def test_manifest_get_by_tag_returns_the_exact_bytes(client, namespace, content):
    response = client.get(
        f"/v2/{namespace}/manifests/{content.tag}", headers={"Accept": OCI_MANIFEST}
    )
    expect_status(response, 200)
    assert response.content == content.tagged.body
    expect_digest_header(response, content.tagged.digest)


def test_manifest_get_by_digest_returns_the_bytes_and_media_type(client, namespace, content):
    document = content.by_digest
    response = client.get(
        f"/v2/{namespace}/manifests/{document.digest}", headers={"Accept": OCI_MANIFEST}
    )
    expect_status(response, 200)
    assert response.content == document.body
    assert response.headers.get("Content-Type") == OCI_MANIFEST, describe(response)
    expect_digest_header(response, document.digest)


def test_manifest_pushed_by_tag_is_also_pullable_by_digest(client, namespace, content):
    response = client.get(
        f"/v2/{namespace}/manifests/{content.tagged.digest}", headers={"Accept": OCI_MANIFEST}
    )
    expect_status(response, 200)
    assert response.content == content.tagged.body


def test_manifest_head_of_missing_reference_answers_404(client, namespace, content):
    # The official suite asks for ".INVALID_MANIFEST_NAME", which is not even a valid tag.
    expect_status(client.head(f"/v2/{namespace}/manifests/.INVALID_MANIFEST_NAME"), 404)


def test_manifest_get_of_missing_tag_answers_404_manifest_unknown(client, namespace, content):
    response = client.get(f"/v2/{namespace}/manifests/missing-{random_suffix()}")
    expect_error(response, 404, "MANIFEST_UNKNOWN")


def test_manifest_get_of_missing_digest_answers_404_manifest_unknown(client, namespace, content):
    response = client.get(f"/v2/{namespace}/manifests/{random_digest()}")
    expect_error(response, 404, "MANIFEST_UNKNOWN")


def test_manifest_get_with_malformed_digest_answers_400_or_404(client, namespace, content):
    """The official "400 response body should contain OCI-conforming JSON message" check."""
    response = client.get(f"/v2/{namespace}/manifests/sha256:totallywrong")
    expect_status(response, 400, 404)
    if response.status_code == 400:
        expect_error(response, 400, "DIGEST_INVALID", "MANIFEST_INVALID", "MANIFEST_UNKNOWN")


def test_manifest_get_in_unknown_repository_answers_404(client, namespace):
    response = client.get(f"/v2/{namespace}-missing-{random_suffix()}/manifests/latest")
    expect_error(response, 404, "NAME_UNKNOWN", "MANIFEST_UNKNOWN")


@pytest.mark.parametrize(
    "name",
    ["Upper/Case", "double..dot", "-leading-dash", "a" * 256],
    ids=["uppercase", "double-dot", "leading-dash", "too-long"],
)
def test_pull_from_invalid_repository_name_is_refused(client, name):
    response = client.get(f"/v2/{name}/manifests/latest")
    expect_status(response, 400, 404)
    expect_spec_error_if_json(response)
