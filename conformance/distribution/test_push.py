"""Push workflow: blob uploads (monolithic, single POST, streamed, chunked), cross-repository
mounts, and manifest uploads with the errors the spec names for each."""

from __future__ import annotations

import uuid

import pytest
import requests
from distribution_conformance.checks import (
    describe,
    expect_digest_header,
    expect_error,
    expect_location,
    expect_spec_error_if_json,
    expect_status,
)
from distribution_conformance.client import RegistryClient
from distribution_conformance.content import (
    OCI_INDEX,
    OCI_MANIFEST,
    OCTET_STREAM,
    Blob,
    image_config,
    image_index,
    image_manifest,
    random_blob,
    random_digest,
    random_suffix,
)
from distribution_conformance.operations import (
    push_blob,
    push_blobs_of,
    push_image,
    push_manifest,
    put_manifest,
    start_upload,
)

pytestmark = [pytest.mark.integration, pytest.mark.workflow("push")]

CHUNKED_SIZE = 42


def blob_url(repo: str, digest: str) -> str:
    return f"/v2/{repo}/blobs/{digest}"


def close_upload(client: RegistryClient, location: str, blob: Blob, body: bytes = b""):
    return client.put(
        location, params={"digest": blob.digest}, headers={"Content-Type": OCTET_STREAM}, data=body
    )


def expect_blob(client: RegistryClient, repo: str, blob: Blob) -> None:
    response = client.get(blob_url(repo, blob.digest))
    expect_status(response, 200)
    assert response.content == blob.data, describe(response)


def chunked_blob(opened: requests.Response) -> tuple[Blob, bytes, bytes]:
    """A blob in two chunks, each at least the OCI-Chunk-Min-Length the registry asked for."""
    size = CHUNKED_SIZE
    minimum = opened.headers.get("OCI-Chunk-Min-Length")
    if minimum and int(minimum) > size // 2 + 1:
        size = int(minimum) * 2 - 2
    blob = random_blob(size)
    cut = size // 2 + 1
    return blob, blob.data[:cut], blob.data[cut:]


def send_chunk(client: RegistryClient, location: str, chunk: bytes, first: int):
    last = first + len(chunk) - 1
    headers = {"Content-Type": OCTET_STREAM, "Content-Range": f"{first}-{last}"}
    return client.patch(location, headers=headers, data=chunk)


# Blob uploads


def test_upload_post_answers_202_with_a_location(client, namespace):
    response = client.post(f"/v2/{namespace}/blobs/uploads/")
    expect_status(response, 202)
    expect_location(response)


def test_post_then_put_creates_the_blob_at_its_location(client, namespace):
    blob = random_blob(1024)
    location = expect_location(start_upload(client, namespace))
    response = close_upload(client, location, blob, blob.data)
    expect_status(response, 201)
    expect_digest_header(response, blob.digest)
    pulled = client.get(expect_location(response))
    expect_status(pulled, 200)
    assert pulled.content == blob.data
    expect_blob(client, namespace, blob)


def test_single_post_with_digest_creates_the_blob_or_opens_a_session(client, namespace):
    """Registries MAY support a one-request upload; otherwise they answer 202 and a session."""
    blob = random_blob(512)
    response = client.post(
        f"/v2/{namespace}/blobs/uploads/",
        params={"digest": blob.digest},
        headers={"Content-Type": OCTET_STREAM},
        data=blob.data,
    )
    expect_status(response, 201, 202)
    location = expect_location(response)
    if response.status_code == 201:
        expect_blob(client, namespace, blob)
        return
    expect_status(client.get(blob_url(namespace, blob.digest)), 404)
    expect_status(close_upload(client, location, blob, blob.data), 201)
    expect_blob(client, namespace, blob)


def test_streamed_patch_then_put_creates_the_blob(client, namespace):
    blob = random_blob(CHUNKED_SIZE)
    location = expect_location(start_upload(client, namespace))
    patched = client.patch(location, headers={"Content-Type": OCTET_STREAM}, data=blob.data)
    expect_status(patched, 202)
    response = close_upload(client, expect_location(patched), blob)
    expect_status(response, 201)
    expect_location(response)
    expect_blob(client, namespace, blob)


def test_chunked_upload_in_order_creates_the_blob(client, namespace):
    opened = start_upload(client, namespace)
    blob, first, second = chunked_blob(opened)
    patched = send_chunk(client, expect_location(opened), first, 0)
    expect_status(patched, 202)
    patched = send_chunk(client, expect_location(patched), second, len(first))
    expect_status(patched, 202)
    response = close_upload(client, expect_location(patched), blob)
    expect_status(response, 201)
    expect_location(response)
    expect_blob(client, namespace, blob)


def test_chunk_answer_reports_the_range_received(client, namespace):
    opened = start_upload(client, namespace)
    _, first, _ = chunked_blob(opened)
    patched = send_chunk(client, expect_location(opened), first, 0)
    expect_status(patched, 202)
    assert patched.headers.get("Range") == f"0-{len(first) - 1}", describe(patched)


def test_upload_status_answers_204_with_range_and_location(client, namespace):
    opened = start_upload(client, namespace)
    _, first, _ = chunked_blob(opened)
    patched = send_chunk(client, expect_location(opened), first, 0)
    expect_status(patched, 202)
    status = client.get(expect_location(patched))
    expect_status(status, 204)
    expect_location(status)
    assert status.headers.get("Range") == f"0-{len(first) - 1}", describe(status)


def test_out_of_order_chunk_answers_416(client, namespace):
    opened = start_upload(client, namespace)
    _, first, second = chunked_blob(opened)
    response = send_chunk(client, expect_location(opened), second, len(first))
    expect_status(response, 416)


def test_retried_chunk_answers_416(client, namespace):
    opened = start_upload(client, namespace)
    _, first, _ = chunked_blob(opened)
    patched = send_chunk(client, expect_location(opened), first, 0)
    expect_status(patched, 202)
    expect_status(send_chunk(client, expect_location(patched), first, 0), 416)


def test_upload_status_of_unknown_session_answers_404_blob_upload_unknown(client, namespace):
    response = client.get(f"/v2/{namespace}/blobs/uploads/{uuid.uuid4()}")
    expect_error(response, 404, "BLOB_UPLOAD_UNKNOWN")


def test_cancelled_upload_is_gone(client, namespace):
    location = expect_location(start_upload(client, namespace))
    expect_status(client.delete(location), 204)
    expect_error(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN")


def test_put_with_wrong_digest_answers_400_digest_invalid(client, namespace):
    blob, other = random_blob(256), random_blob(256)
    location = expect_location(start_upload(client, namespace))
    response = close_upload(client, location, other, blob.data)
    expect_error(response, 400, "DIGEST_INVALID")
    expect_status(client.head(blob_url(namespace, other.digest)), 404)


def test_put_with_malformed_digest_answers_400_digest_invalid(client, namespace):
    location = expect_location(start_upload(client, namespace))
    response = client.put(
        location,
        params={"digest": "sha256:baddigeststring"},
        headers={"Content-Type": OCTET_STREAM},
        data=b"some bytes",
    )
    expect_error(response, 400, "DIGEST_INVALID")


def test_upload_to_invalid_repository_name_answers_400_name_invalid(client):
    expect_error(client.post("/v2/Invalid_Name/blobs/uploads/"), 400, "NAME_INVALID")


# Cross-repository mounts


@pytest.fixture(scope="module")
def mountable(client, namespace) -> Blob:
    blob = random_blob(128)
    push_blob(client, namespace, blob)
    return blob


def test_mount_with_from_answers_201_and_the_blob_is_there(
    client, namespace, crossmount_namespace, mountable
):
    """The spec allows a 202 fallback, but both reference registries mount: so must we."""
    response = client.post(
        f"/v2/{crossmount_namespace}/blobs/uploads/",
        params={"mount": mountable.digest, "from": namespace},
    )
    expect_status(response, 201)
    location = client.path_of(expect_location(response))
    assert location == blob_url(crossmount_namespace, mountable.digest), describe(response)
    expect_blob(client, crossmount_namespace, mountable)


def test_mount_of_unknown_blob_opens_a_session(client, crossmount_namespace):
    response = client.post(
        f"/v2/{crossmount_namespace}/blobs/uploads/", params={"mount": random_digest()}
    )
    expect_status(response, 202)
    path = client.path_of(expect_location(response))
    assert path.startswith(f"/v2/{crossmount_namespace}/blobs/uploads/"), describe(response)


def test_mount_from_repository_without_the_blob_opens_a_session(
    client, namespace, crossmount_namespace
):
    response = client.post(
        f"/v2/{crossmount_namespace}/blobs/uploads/",
        params={"mount": random_digest(), "from": namespace},
    )
    expect_status(response, 202)
    expect_location(response)


def test_mount_without_from_of_known_blob_follows_the_target(
    client, registry, namespace, mountable
):
    """A registry MAY mount a blob it holds without `from`; the target says if this one does."""
    repo = f"{namespace}-automount-{random_suffix()}"
    response = client.post(f"/v2/{repo}/blobs/uploads/", params={"mount": mountable.digest})
    expected = {True: (201,), False: (202,), None: (201, 202)}[registry.automatic_crossmount]
    expect_status(response, *expected)
    if response.status_code == 201:
        expect_blob(client, repo, mountable)


# Manifest uploads


def test_manifest_put_by_tag_answers_201_with_location(client, namespace):
    document = image_manifest()
    push_blobs_of(client, namespace, document)
    response = push_manifest(client, namespace, f"push-{random_suffix()}", document)
    expect_location(response)
    expect_digest_header(response, document.digest)


def test_manifest_put_by_digest_answers_201_with_location(client, namespace):
    document = image_manifest()
    response = push_image(client, namespace, document)
    expect_location(response)
    expect_digest_header(response, document.digest)


def test_manifest_put_under_several_tags_serves_each(client, namespace):
    document = image_manifest()
    tags = [f"test{i}-{random_suffix()}" for i in range(4)]
    push_image(client, namespace, document, tags[0])
    for tag in tags[1:]:
        push_manifest(client, namespace, tag, document)
    for tag in tags:
        response = client.get(f"/v2/{namespace}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
        expect_status(response, 200)
        assert response.content == document.body


def test_manifest_without_layers_is_accepted(client, namespace):
    push_image(client, namespace, image_manifest(layers=()), f"emptylayer-{random_suffix()}")


def test_index_put_is_served_with_its_media_type(client, namespace):
    children = (image_manifest(), image_manifest())
    for child in children:
        push_image(client, namespace, child)
    index = image_index(children)
    push_manifest(client, namespace, f"index-{random_suffix()}", index)
    response = client.get(
        f"/v2/{namespace}/manifests/{index.digest}", headers={"Accept": OCI_INDEX}
    )
    expect_status(response, 200)
    assert response.content == index.body
    assert response.headers.get("Content-Type") == OCI_INDEX, describe(response)


def test_manifest_with_subject_answers_oci_subject_header(client, namespace):
    subject = image_manifest()
    push_image(client, namespace, subject)
    referrer = image_manifest(subject=subject)
    response = push_image(client, namespace, referrer)
    assert response.headers.get("OCI-Subject") == subject.digest, describe(response)


def test_manifest_with_missing_subject_is_accepted(client, namespace):
    """Referrers may be pushed before their subject: the spec says MUST accept."""
    push_image(client, namespace, image_manifest(subject=image_manifest()))


def test_manifest_with_missing_blob_is_refused_as_manifest_blob_unknown(client, namespace):
    """The spec lets a registry refuse such a manifest, and then fixes the code but not the
    status: CNCF distribution answers 400, the endpoint table lists 404 for manifest PUT."""
    config = image_config()
    push_blob(client, namespace, config)
    document = image_manifest(config, (random_blob(64),))
    response = put_manifest(client, namespace, document.digest, document.body, OCI_MANIFEST)
    expect_error(response, (400, 404), "MANIFEST_BLOB_UNKNOWN")


def test_manifest_put_by_mismatched_digest_answers_400_digest_invalid(client, namespace):
    document = image_manifest()
    push_blobs_of(client, namespace, document)
    response = put_manifest(client, namespace, random_digest(), document.body, OCI_MANIFEST)
    expect_error(response, 400, "DIGEST_INVALID")


def test_manifest_put_by_malformed_digest_answers_400(client, namespace):
    document = image_manifest()
    push_blobs_of(client, namespace, document)
    response = put_manifest(
        client, namespace, "sha256:baddigeststring", document.body, OCI_MANIFEST
    )
    expect_status(response, 400)
    expect_spec_error_if_json(response)


def test_manifest_put_of_invalid_json_answers_400_manifest_invalid(client, namespace):
    tag = f"invalid-{random_suffix()}"
    response = put_manifest(client, namespace, tag, b"blablabla", OCI_MANIFEST)
    expect_error(response, 400, "MANIFEST_INVALID")


@pytest.mark.parametrize("tag", ["-leading-dash", "t" * 129], ids=["leading-dash", "too-long"])
def test_manifest_put_with_invalid_tag_is_refused(client, namespace, tag):
    document = image_manifest()
    push_blobs_of(client, namespace, document)
    response = put_manifest(client, namespace, tag, document.body, OCI_MANIFEST)
    expect_status(response, 400, 404)
    expect_spec_error_if_json(response)
