"""Error codes are declared once and rendered as the spec's JSON with the right statuses."""

from __future__ import annotations

import json

import pytest
from falcon import testing
from porter_registry.errors import CODES, RegistryError, from_porter_error
from porter_specs.errors import DigestMismatchError, DocumentError, InvalidDigestError

SPEC_STATUSES = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 404,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "SIZE_INVALID": 400,
    "UNAUTHORIZED": 401,
    "DENIED": 403,
    "UNSUPPORTED": 405,
    "TOOMANYREQUESTS": 429,
}


def test_every_spec_error_code_is_declared_with_its_status() -> None:
    assert {code: CODES[code].status for code in SPEC_STATUSES} == SPEC_STATUSES


def test_messages_agree_with_porter_specs_table() -> None:
    distribution = pytest.importorskip("porter_specs.distribution")
    for code, message in distribution.ERROR_CODES.items():
        assert CODES[code].message == message


def test_error_body_has_code_message_and_detail() -> None:
    body = RegistryError("BLOB_UNKNOWN", {"digest": "sha256:x"}).body()
    assert body == {
        "errors": [
            {
                "code": "BLOB_UNKNOWN",
                "message": "blob unknown to registry",
                "detail": {"digest": "sha256:x"},
            }
        ]
    }


def test_error_body_matches_the_distribution_error_schema() -> None:
    validate = pytest.importorskip("porter_specs.validate")
    for code in CODES:
        validate.validate(RegistryError(code, "why").body(), "distribution-error")


def test_unknown_code_cannot_be_raised() -> None:
    with pytest.raises(KeyError):
        RegistryError("NOT_A_CODE")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidDigestError("x", "bad"), "DIGEST_INVALID"),
        (DigestMismatchError("a", "b"), "DIGEST_INVALID"),
        (DocumentError("broken"), "MANIFEST_INVALID"),
    ],
)
def test_porter_errors_translate_to_registry_codes(error: Exception, code: str) -> None:
    assert from_porter_error(error).error_code.code == code  # type: ignore[arg-type]


def test_refusal_is_rendered_as_json_with_status(client: testing.TestClient) -> None:
    response = client.simulate_get("/v2/UPPER/tags/list")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.text)["errors"][0]["code"] == "NAME_INVALID"


def test_unknown_route_is_rendered_as_json(client: testing.TestClient) -> None:
    response = client.simulate_get("/v3/")
    assert response.status_code == 404
    assert "errors" in response.json


def test_wrong_method_is_unsupported_405(client: testing.TestClient) -> None:
    response = client.simulate_post("/v2/_catalog")
    assert response.status_code == 405
    assert response.json["errors"][0]["code"] == "UNSUPPORTED"


def test_every_response_carries_the_api_version_header(client: testing.TestClient) -> None:
    for path in ("/v2/", "/v2/nope/tags/list", "/elsewhere"):
        response = client.simulate_get(path)
        assert response.headers["docker-distribution-api-version"] == "registry/2.0"
