"""Content discovery workflow: tags list with n/last pagination, and the referrers API."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from distribution_conformance.checks import describe, expect_error, expect_status
from distribution_conformance.content import (
    EMPTY_JSON_DIGEST,
    OCI_INDEX,
    Blob,
    Document,
    empty_json_blob,
    image_index,
    image_manifest,
    random_digest,
    random_suffix,
)
from distribution_conformance.operations import push_blob, push_image, push_manifest
from distribution_conformance.pagination import list_page, next_link, walk_pages

pytestmark = [pytest.mark.integration, pytest.mark.workflow("content_discovery")]

ANNOTATION = "org.opencontainers.conformance.test"
TYPE_A = "application/vnd.nhl.peanut.butter.bagel"
TYPE_B = "application/vnd.nba.strawberry.jam.croissant"
TYPE_INDEX = "application/vnd.food.stand"
TAG_COUNT = 8


# Tags


@pytest.fixture(scope="module")
def all_tags(client, namespace) -> list[str]:
    """Push eight tags of one image, then read the whole tag list (other workflows add tags).

    Eight, so that a registry listing tags in no particular order is almost never sorted by
    chance (which would turn its strict xfail into a false alarm).
    """
    document = image_manifest()
    prefix = f"disc-{random_suffix()}"
    push_image(client, namespace, document, f"{prefix}-0")
    for i in range(1, TAG_COUNT):
        push_manifest(client, namespace, f"{prefix}-{i}", document)
    tags, _ = list_page(client, f"/v2/{namespace}/tags/list", "tags")
    assert {f"{prefix}-{i}" for i in range(TAG_COUNT)} <= set(tags), tags
    return tags


def test_tags_list_names_the_repository_and_its_tags(client, namespace, all_tags):
    response = client.get(f"/v2/{namespace}/tags/list")
    expect_status(response, 200)
    assert response.json()["name"] == namespace, describe(response)
    assert sorted(response.json()["tags"]) == sorted(all_tags)


def test_tags_list_is_in_lexical_order(all_tags):
    assert all_tags == sorted(all_tags)


def test_tags_list_n_limits_the_count(client, namespace, all_tags):
    n = len(all_tags) // 2
    tags, response = list_page(client, f"/v2/{namespace}/tags/list", "tags", {"n": str(n)})
    assert len(tags) == n or (len(tags) < n and next_link(response)), describe(response)
    assert tags == all_tags[: len(tags)]


def test_tags_list_link_header_leads_through_every_tag(client, namespace, all_tags):
    _, first = list_page(client, f"/v2/{namespace}/tags/list", "tags", {"n": "2"})
    assert next_link(first), f"no Link header although more tags exist:\n{describe(first)}"
    assert walk_pages(client, f"/v2/{namespace}/tags/list", "tags", 2) == all_tags


def test_tags_list_last_starts_after_the_given_tag(client, namespace, all_tags):
    n = len(all_tags) // 2
    params = {"n": str(n), "last": all_tags[n - 1]}
    tags, _ = list_page(client, f"/v2/{namespace}/tags/list", "tags", params)
    assert tags == all_tags[n : 2 * n]


def test_tags_list_last_without_n_lists_the_rest(client, namespace, all_tags):
    params = {"last": all_tags[0]}
    tags, _ = list_page(client, f"/v2/{namespace}/tags/list", "tags", params)
    assert tags == all_tags[1:]


def test_tags_list_n_zero_is_empty_without_link(client, namespace, all_tags):
    tags, response = list_page(client, f"/v2/{namespace}/tags/list", "tags", {"n": "0"})
    assert tags == [], describe(response)
    assert "Link" not in response.headers, describe(response)


def test_tags_list_of_unknown_repository_answers_404_name_unknown(client, namespace):
    response = client.get(f"/v2/{namespace}-missing-{random_suffix()}/tags/list")
    expect_error(response, 404, "NAME_UNKNOWN")


# Referrers, set up as the official suite does: five referrers of one subject (pushed before and
# after it), and one referrer of a subject that is never pushed.


@dataclass(frozen=True)
class Referrers:
    subject: Document
    missing_subject: Document
    of_subject: tuple[Document, ...]
    of_missing: Document
    artifact_types: dict[str, str | None]
    subject_headers: dict[str, str | None]


def _config_artifact(data: bytes, artifact_type: str, subject: Document, note: str) -> Document:
    return image_manifest(
        Blob(data, artifact_type),
        (empty_json_blob(),),
        subject=subject,
        annotations={ANNOTATION: note},
    )


def _layer_artifact(data: bytes, artifact_type: str, subject: Document, note: str) -> Document:
    return image_manifest(
        empty_json_blob(),
        (Blob(data, artifact_type),),
        subject=subject,
        artifact_type=artifact_type,
        annotations={ANNOTATION: note} if note else None,
    )


@pytest.fixture(scope="module")
def referrers(client, namespace) -> Referrers:
    assert empty_json_blob().digest == EMPTY_JSON_DIGEST
    subject, missing_subject = image_manifest(), image_manifest()
    blob_a = b"NHL Peanut Butter on my NHL bagel " + random_suffix().encode()
    blob_b = b"NBA Strawberry Jam on my NBA croissant " + random_suffix().encode()
    config_a = _config_artifact(blob_a, TYPE_A, subject, "test config a")
    layer_a = _layer_artifact(blob_a, TYPE_A, subject, "test layer a")
    index = image_index(
        (config_a, layer_a),
        subject=subject,
        artifact_type=TYPE_INDEX,
        annotations={ANNOTATION: "test index"},
    )
    config_b = _config_artifact(blob_b, TYPE_B, subject, "test config b")
    layer_b = _layer_artifact(blob_b, TYPE_B, subject, "test layer b")
    layer_c = _layer_artifact(blob_b, TYPE_B, missing_subject, "")
    headers = {}
    for document in (config_a, layer_a):
        headers[document.digest] = push_image(client, namespace, document).headers.get(
            "OCI-Subject"
        )
    headers[index.digest] = push_manifest(client, namespace, index.digest, index).headers.get(
        "OCI-Subject"
    )
    push_image(client, namespace, subject, f"referred-{random_suffix()}")
    for document in (config_b, layer_b):
        headers[document.digest] = push_image(client, namespace, document).headers.get(
            "OCI-Subject"
        )
    push_blob(client, namespace, Blob(blob_b))
    push_manifest(client, namespace, layer_c.digest, layer_c)
    types = {config_a.digest: TYPE_A, layer_a.digest: TYPE_A, index.digest: TYPE_INDEX}
    types |= {config_b.digest: TYPE_B, layer_b.digest: TYPE_B}
    return Referrers(
        subject,
        missing_subject,
        (config_a, layer_a, index, config_b, layer_b),
        layer_c,
        types,
        headers,
    )


def referrers_index(client, namespace, digest, params=None) -> tuple[list[dict], object]:
    response = client.get(f"/v2/{namespace}/referrers/{digest}", params=params)
    expect_status(response, 200)
    assert response.headers.get("Content-Type") == OCI_INDEX, describe(response)
    body = response.json()
    assert body.get("schemaVersion") == 2 and isinstance(body.get("manifests"), list), describe(
        response
    )
    return body["manifests"], response


def test_referrer_pushes_answer_oci_subject_header(referrers):
    wanted = dict.fromkeys(referrers.subject_headers, referrers.subject.digest)
    assert referrers.subject_headers == wanted


def test_referrers_of_unknown_digest_are_an_empty_index(client, namespace):
    manifests, _ = referrers_index(client, namespace, random_digest())
    assert manifests == []


def test_referrers_list_every_manifest_with_that_subject(client, namespace, referrers):
    manifests, response = referrers_index(client, namespace, referrers.subject.digest)
    expected = {d.digest: d for d in referrers.of_subject}
    assert sorted(m["digest"] for m in manifests) == sorted(expected), describe(response)
    for entry in manifests:
        document = expected[entry["digest"]]
        assert entry["mediaType"] == document.media_type, entry
        assert entry["size"] == document.size, entry


def test_referrers_carry_annotations_and_artifact_type(client, namespace, referrers):
    manifests, _ = referrers_index(client, namespace, referrers.subject.digest)
    notes = {d.digest: json.loads(d.body)["annotations"] for d in referrers.of_subject}
    for entry in manifests:
        assert entry.get("annotations") == notes[entry["digest"]], entry
        assert entry.get("artifactType") == referrers.artifact_types[entry["digest"]], entry


def test_referrers_filter_by_artifact_type(client, namespace, referrers):
    manifests, response = referrers_index(
        client, namespace, referrers.subject.digest, {"artifactType": TYPE_A}
    )
    assert response.headers.get("OCI-Filters-Applied") == "artifactType", describe(response)
    wanted = [
        d.digest for d in referrers.of_subject if referrers.artifact_types[d.digest] == TYPE_A
    ]
    assert sorted(m["digest"] for m in manifests) == sorted(wanted)


def test_referrers_of_a_missing_subject_list_its_referrer(client, namespace, referrers):
    manifests, _ = referrers_index(client, namespace, referrers.missing_subject.digest)
    assert [m["digest"] for m in manifests] == [referrers.of_missing.digest]


def test_referrers_with_malformed_digest_answer_400(client, namespace):
    response = client.get(f"/v2/{namespace}/referrers/sha256:baddigeststring")
    expect_status(response, 400)
