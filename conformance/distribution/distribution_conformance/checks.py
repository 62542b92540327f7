"""Assertions on responses, each failing with the whole exchange so the cause is visible."""

from __future__ import annotations

import json
import re

import requests

# The error codes of distribution-spec v1.1 ("Error Codes"); no other code is allowed.
SPEC_ERROR_CODES = frozenset(
    {
        "BLOB_UNKNOWN",
        "BLOB_UPLOAD_INVALID",
        "BLOB_UPLOAD_UNKNOWN",
        "DIGEST_INVALID",
        "MANIFEST_BLOB_UNKNOWN",
        "MANIFEST_INVALID",
        "MANIFEST_UNKNOWN",
        "NAME_INVALID",
        "NAME_UNKNOWN",
        "SIZE_INVALID",
        "UNAUTHORIZED",
        "DENIED",
        "UNSUPPORTED",
        "TOOMANYREQUESTS",
    }
)
_CODE_SHAPE = re.compile(r"^[A-Z_]+$")


def describe(response: requests.Response) -> str:
    """The exchange in a few lines, for assertion messages."""
    request = response.request
    headers = "; ".join(f"{k}: {v}" for k, v in response.headers.items() if k != "Date")
    body = response.content[:600]
    return (
        f"{request.method} {request.url} -> {response.status_code}\n"
        f"  response headers: {headers}\n  response body: {body!r}"
    )


def expect_status(response: requests.Response, *statuses: int) -> None:
    assert response.status_code in statuses, f"expected {statuses}, got:\n{describe(response)}"


def error_codes(response: requests.Response) -> list[str]:
    """The codes of a spec error body, after checking that the body has the spec's shape."""
    content_type = response.headers.get("Content-Type", "")
    assert "json" in content_type, f"error body is not JSON:\n{describe(response)}"
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"error body is not valid JSON:\n{describe(response)}") from exc
    errors = body.get("errors") if isinstance(body, dict) else None
    assert isinstance(errors, list) and errors, f"no 'errors' list:\n{describe(response)}"
    codes = []
    for entry in errors:
        assert isinstance(entry, dict), f"error entry is not an object:\n{describe(response)}"
        code = entry.get("code")
        assert isinstance(code, str) and _CODE_SHAPE.match(code), (
            f"error code {code!r} is not uppercase letters and underscores:\n{describe(response)}"
        )
        message = entry.get("message")
        assert message is None or isinstance(message, str), (
            f"error message is not a string:\n{describe(response)}"
        )
        codes.append(code)
    return codes


def expect_error(response: requests.Response, statuses: int | tuple[int, ...], *codes: str) -> None:
    """The response has one of the statuses and a spec error body naming one of the codes."""
    wanted = statuses if isinstance(statuses, tuple) else (statuses,)
    expect_status(response, *wanted)
    found = error_codes(response)
    assert set(found) & set(codes), f"expected one of {codes}, got {found}:\n{describe(response)}"


def expect_spec_error_if_json(response: requests.Response) -> None:
    """A 4xx body may have any format; when it is JSON it must be a spec error body."""
    if "json" in response.headers.get("Content-Type", "") and response.content:
        unknown = set(error_codes(response)) - SPEC_ERROR_CODES
        assert not unknown, f"codes {unknown} are not in the spec:\n{describe(response)}"


def expect_digest_header(response: requests.Response, digest: str) -> None:
    """Docker-Content-Digest is optional, but when present it must name the content."""
    header = response.headers.get("Docker-Content-Digest")
    if header is not None:
        assert header == digest, (
            f"Docker-Content-Digest {header} != {digest}:\n{describe(response)}"
        )


def expect_location(response: requests.Response) -> str:
    location = response.headers.get("Location")
    assert location, f"no Location header:\n{describe(response)}"
    return location
