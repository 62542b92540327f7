"""Content management workflow: deleting tags, manifests and blobs, and what is left after."""

from __future__ import annotations

import pytest
from distribution_conformance.checks import describe, expect_error, expect_status
from distribution_conformance.content import (
    image_manifest,
    random_blob,
    random_digest,
    random_suffix,
)
from distribution_conformance.operations import get_manifest, push_blob, push_image, push_manifest
from distribution_conformance.pagination import list_page

pytestmark = [pytest.mark.integration, pytest.mark.workflow("content_management")]


def manifest_url(repo: str, reference: str) -> str:
    return f"/v2/{repo}/manifests/{reference}"


def tagged_image(client, repo: str, count: int = 1):
    """A fresh image under count fresh tags."""
    document = image_manifest()
    tags = [f"mgmt-{random_suffix()}" for _ in range(count)]
    push_image(client, repo, document, tags[0])
    for tag in tags[1:]:
        push_manifest(client, repo, tag, document)
    return document, tags


def test_delete_tag_answers_202_and_the_tag_is_gone(client, namespace):
    _, (tag,) = tagged_image(client, namespace)
    expect_status(client.delete(manifest_url(namespace, tag)), 202)
    expect_error(get_manifest(client, namespace, tag), 404, "MANIFEST_UNKNOWN")


def test_delete_tag_keeps_the_manifest_and_its_other_tags(client, namespace):
    document, (tag, other) = tagged_image(client, namespace, 2)
    expect_status(client.delete(manifest_url(namespace, tag)), 202)
    expect_status(get_manifest(client, namespace, document.digest), 200)
    expect_status(get_manifest(client, namespace, other), 200)


def test_delete_manifest_answers_202_and_the_manifest_is_gone(client, namespace):
    document, _ = tagged_image(client, namespace)
    expect_status(client.delete(manifest_url(namespace, document.digest)), 202)
    expect_error(get_manifest(client, namespace, document.digest), 404, "MANIFEST_UNKNOWN")


def test_delete_manifest_removes_the_tags_pointing_to_it(client, namespace):
    document, tags = tagged_image(client, namespace, 2)
    expect_status(client.delete(manifest_url(namespace, document.digest)), 202)
    for tag in tags:
        expect_status(get_manifest(client, namespace, tag), 404)


def test_tags_list_reflects_manifest_deletion(client, namespace):
    document, (tag,) = tagged_image(client, namespace)
    before, _ = list_page(client, f"/v2/{namespace}/tags/list", "tags")
    expect_status(client.delete(manifest_url(namespace, document.digest)), 202)
    after, response = list_page(client, f"/v2/{namespace}/tags/list", "tags")
    assert sorted(after) == sorted(set(before) - {tag}), describe(response)


def test_delete_blob_answers_202_and_the_blob_is_gone(client, namespace):
    blob = random_blob(300)
    push_blob(client, namespace, blob)
    expect_status(client.delete(f"/v2/{namespace}/blobs/{blob.digest}"), 202)
    expect_error(client.get(f"/v2/{namespace}/blobs/{blob.digest}"), 404, "BLOB_UNKNOWN")
    expect_status(client.head(f"/v2/{namespace}/blobs/{blob.digest}"), 404)


def test_delete_of_missing_blob_answers_404_blob_unknown(client, namespace):
    response = client.delete(f"/v2/{namespace}/blobs/{random_digest()}")
    expect_error(response, 404, "BLOB_UNKNOWN")


def test_delete_of_missing_manifest_answers_404_manifest_unknown(client, namespace):
    response = client.delete(manifest_url(namespace, random_digest()))
    expect_error(response, 404, "MANIFEST_UNKNOWN")


def test_deleted_referrer_leaves_the_referrers_list(client, namespace):
    subject = image_manifest()
    push_image(client, namespace, subject)
    kept, dropped = image_manifest(subject=subject), image_manifest(subject=subject)
    push_image(client, namespace, kept)
    push_image(client, namespace, dropped)
    expect_status(client.delete(manifest_url(namespace, dropped.digest)), 202)
    response = client.get(f"/v2/{namespace}/referrers/{subject.digest}")
    expect_status(response, 200)
    assert [m["digest"] for m in response.json()["manifests"]] == [kept.digest], describe(response)


@pytest.fixture(scope="module")
def undeletable(delete_disabled_client, namespace):
    """An image pushed to the registry that refuses deletes."""
    document = image_manifest()
    push_image(delete_disabled_client, namespace, document, "kept")
    return document


def test_manifest_delete_when_disabled_answers_unsupported(
    delete_disabled_client, namespace, undeletable
):
    """The spec allows 400 or 405 here; the code says why."""
    client = delete_disabled_client
    response = client.delete(manifest_url(namespace, undeletable.digest))
    expect_error(response, (400, 405), "UNSUPPORTED")
    expect_status(get_manifest(client, namespace, undeletable.digest), 200)


def test_blob_delete_when_disabled_answers_unsupported(
    delete_disabled_client, namespace, undeletable
):
    client = delete_disabled_client
    layer = undeletable.blobs[1]
    response = client.delete(f"/v2/{namespace}/blobs/{layer.digest}")
    expect_error(response, (400, 405), "UNSUPPORTED")
    expect_status(client.get(f"/v2/{namespace}/blobs/{layer.digest}"), 200)
