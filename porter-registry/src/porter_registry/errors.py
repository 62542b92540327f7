"""The distribution-spec's error codes, declared once, and the one error type that carries them.

Every refusal the registry makes is a `RegistryError` naming an `ErrorCode` from `CODES`; the
falcon error handler in `app.py` is the only place that turns one into an HTTP response (the
spec's `{"errors": [{"code", "message", "detail"}]}` body). Library errors from porter_specs are
translated to registry errors in `from_porter_error`, the one table for that mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from porter_specs.errors import (
    DigestMismatchError,
    DocumentError,
    InvalidDigestError,
    PorterError,
    SizeMismatchError,
)


@dataclass(frozen=True)
class ErrorCode:
    """One entry of the spec's error-code table, with the status it is answered with."""

    code: str
    message: str
    description: str
    status: int


def _declare(*codes: ErrorCode) -> dict[str, ErrorCode]:
    return {c.code: c for c in codes}


CODES: dict[str, ErrorCode] = _declare(
    ErrorCode("BLOB_UNKNOWN", "blob unknown to registry",
              "The blob is not known to the repository.", 404),
    ErrorCode("BLOB_UPLOAD_INVALID", "blob upload invalid",
              "The blob upload encountered an error and can no longer proceed.", 400),
    ErrorCode("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry",
              "The upload session is not known to the registry or was cancelled.", 404),
    ErrorCode("DIGEST_INVALID", "provided digest did not match uploaded content",
              "The digest is malformed or the content does not hash to it.", 400),
    ErrorCode("MANIFEST_BLOB_UNKNOWN", "manifest references a manifest or blob unknown to registry",
              "A blob or child manifest the manifest references is not in the repository.", 404),
    ErrorCode("MANIFEST_INVALID", "manifest invalid",
              "The manifest failed validation: malformed, wrong media type or too large.", 400),
    ErrorCode("MANIFEST_UNKNOWN", "manifest unknown to registry",
              "The named manifest is not known to the repository.", 404),
    ErrorCode("NAME_INVALID", "invalid repository name",
              "The repository name does not follow the distribution-spec's grammar.", 400),
    ErrorCode("NAME_UNKNOWN", "repository name not known to registry",
              "The repository does not exist.", 404),
    ErrorCode("SIZE_INVALID", "provided length did not match content length",
              "The content is not the length the client declared, or exceeds a limit.", 400),
    ErrorCode("UNAUTHORIZED", "authentication required",
              "The client must authenticate before this request is allowed.", 401),
    ErrorCode("DENIED", "requested access to the resource is denied",
              "The authenticated client is not allowed this action on this resource.", 403),
    ErrorCode("UNSUPPORTED", "the operation is unsupported",
              "The registry does not support this operation (deletes disabled, read-only).", 405),
    ErrorCode("TOOMANYREQUESTS", "too many requests",
              "The client sent too many requests and must wait before retrying.", 429),
    # Not in the spec's table; CNCF distribution answers with these where the spec is silent.
    ErrorCode("PAGINATION_NUMBER_INVALID", "invalid number of results requested",
              "The `n` query parameter is not a non-negative integer.", 400),
    ErrorCode("RANGE_INVALID", "invalid content range",
              "The requested byte range cannot be served from this blob.", 416),
)  # fmt: skip


class RegistryError(PorterError):
    """A refusal answered with one of the spec's error codes.

    `status` overrides the code's usual HTTP status where the spec asks for a specific one
    (416 for an out-of-order chunk, 413 for an oversized manifest). `headers` carries response
    headers such as `WWW-Authenticate` or `Range` that must accompany the error.
    """

    def __init__(
        self,
        code: str,
        detail: Any = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.error_code = CODES[code]
        self.detail = detail
        self.status = status or self.error_code.status
        self.headers = dict(headers or {})
        suffix = f": {detail}" if detail is not None else ""
        super().__init__(f"{self.error_code.code}: {self.error_code.message}{suffix}")

    def body(self) -> dict[str, Any]:
        """The spec's error document for this refusal."""
        entry: dict[str, Any] = {
            "code": self.error_code.code,
            "message": self.error_code.message,
        }
        if self.detail is not None:
            entry["detail"] = self.detail
        return {"errors": [entry]}


def from_porter_error(exc: PorterError) -> RegistryError:
    """Translate a porter_specs error raised in a request into the registry error it means."""
    if isinstance(exc, RegistryError):
        return exc
    if isinstance(exc, InvalidDigestError | DigestMismatchError):
        return RegistryError("DIGEST_INVALID", str(exc))
    if isinstance(exc, SizeMismatchError):
        return RegistryError("SIZE_INVALID", str(exc))
    if isinstance(exc, DocumentError):
        return RegistryError("MANIFEST_INVALID", str(exc))
    return RegistryError("UNSUPPORTED", str(exc), status=500)
