"""Requests the fuzz run once answered with a 500, kept as plain regression tests."""

from __future__ import annotations

import json

from falcon import testing
from push_support import EMPTY_CONFIG, descriptor

INDEX = "application/vnd.docker.distribution.manifest.list.v2+json"


def test_a_manifest_whose_subject_media_type_is_not_a_string_is_invalid(
    client: testing.TestClient,
) -> None:
    subject = {**descriptor(EMPTY_CONFIG, "x"), "mediaType": {}}
    body = json.dumps({"schemaVersion": 2, "manifests": [], "subject": subject})
    response = client.simulate_put(
        "/v2/app/manifests/v1", body=body, headers={"Content-Type": INDEX}
    )
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "MANIFEST_INVALID"
