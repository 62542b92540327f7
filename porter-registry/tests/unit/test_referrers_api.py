"""The referrers API and the subject field."""

from __future__ import annotations

import json

from falcon import testing
from porter_specs import media_types
from push_support import EMPTY_CONFIG, Pusher, descriptor, digest_of, manifest_bytes

SIGNATURE = "application/vnd.example.signature"
SBOM = "application/vnd.example.sbom"


def _subject(push: Pusher) -> bytes:
    push.blob("repo", EMPTY_CONFIG)
    content = manifest_bytes()
    push.manifest("repo", "v1", content)
    return content


def _referrer(push: Pusher, subject: bytes, artifact_type: str, note: str) -> bytes:
    content = manifest_bytes(
        EMPTY_CONFIG,
        config_type=media_types.EMPTY_JSON,
        artifactType=artifact_type,
        subject=descriptor(subject, media_types.IMAGE_MANIFEST),
        annotations={"note": note},
    )
    return content


def test_put_with_subject_answers_oci_subject(client: testing.TestClient, push: Pusher) -> None:
    subject = _subject(push)
    referrer = _referrer(push, subject, SIGNATURE, "sig")
    response = push.manifest("repo", digest_of(referrer), referrer)
    assert response.headers["oci-subject"] == digest_of(subject)


def test_referrers_lists_descriptors_with_artifact_type(
    client: testing.TestClient, push: Pusher
) -> None:
    subject = _subject(push)
    referrer = _referrer(push, subject, SIGNATURE, "sig")
    push.manifest("repo", digest_of(referrer), referrer)
    response = client.simulate_get(f"/v2/repo/referrers/{digest_of(subject)}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_types.IMAGE_INDEX
    assert response.json == {
        "schemaVersion": 2,
        "mediaType": media_types.IMAGE_INDEX,
        "manifests": [
            {
                "mediaType": media_types.IMAGE_MANIFEST,
                "digest": digest_of(referrer),
                "size": len(referrer),
                "artifactType": SIGNATURE,
                "annotations": {"note": "sig"},
            }
        ],
    }


def test_artifact_type_filter_applies_and_says_so(client: testing.TestClient, push: Pusher) -> None:
    subject = _subject(push)
    for artifact_type, note in ((SIGNATURE, "sig"), (SBOM, "sbom")):
        referrer = _referrer(push, subject, artifact_type, note)
        push.manifest("repo", digest_of(referrer), referrer)
    response = client.simulate_get(
        f"/v2/repo/referrers/{digest_of(subject)}", params={"artifactType": SBOM}
    )
    assert response.headers["oci-filters-applied"] == "artifactType"
    assert [d["artifactType"] for d in response.json["manifests"]] == [SBOM]


def test_artifact_type_falls_back_to_config_media_type(
    client: testing.TestClient, push: Pusher
) -> None:
    subject = _subject(push)
    push.blob("repo", b"cfg")
    referrer = manifest_bytes(
        b"cfg", config_type=SBOM, subject=descriptor(subject, media_types.IMAGE_MANIFEST)
    )
    push.manifest("repo", digest_of(referrer), referrer)
    response = client.simulate_get(f"/v2/repo/referrers/{digest_of(subject)}")
    assert response.json["manifests"][0]["artifactType"] == SBOM


def test_unknown_subject_gets_an_empty_index(client: testing.TestClient) -> None:
    for name in ("repo", "never/pushed"):
        response = client.simulate_get(f"/v2/{name}/referrers/{digest_of(b'nothing')}")
        assert response.status_code == 200
        assert response.json["manifests"] == []


def test_referrer_pushed_before_its_subject_is_listed(
    client: testing.TestClient, push: Pusher
) -> None:
    push.blob("repo", EMPTY_CONFIG)
    missing_subject = json.dumps({"schemaVersion": 2, "note": "never pushed"}).encode()
    referrer = _referrer(push, missing_subject, SIGNATURE, "early")
    push.manifest("repo", digest_of(referrer), referrer)
    response = client.simulate_get(f"/v2/repo/referrers/{digest_of(missing_subject)}")
    assert len(response.json["manifests"]) == 1


def test_deleted_referrer_disappears(client: testing.TestClient, push: Pusher) -> None:
    subject = _subject(push)
    referrer = _referrer(push, subject, SIGNATURE, "sig")
    push.manifest("repo", digest_of(referrer), referrer)
    client.simulate_delete(f"/v2/repo/manifests/{digest_of(referrer)}")
    response = client.simulate_get(f"/v2/repo/referrers/{digest_of(subject)}")
    assert response.json["manifests"] == []


def test_malformed_subject_digest_is_400(client: testing.TestClient) -> None:
    response = client.simulate_get("/v2/repo/referrers/sha256:short")
    assert response.status_code == 400
