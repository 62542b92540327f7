"""The distribution-spec's error codes, as its error-response body names them.

The registry maps these to HTTP statuses in its own single place; this module only says which
codes the spec defines, so that a body can be checked and a client can recognise them.
"""

from __future__ import annotations

# code -> description, from the distribution-spec v1.1 table (code-1 .. code-14).
ERROR_CODES = {
    "BLOB_UNKNOWN": "blob unknown to registry",
    "BLOB_UPLOAD_INVALID": "blob upload invalid",
    "BLOB_UPLOAD_UNKNOWN": "blob upload unknown to registry",
    "DIGEST_INVALID": "provided digest did not match uploaded content",
    "MANIFEST_BLOB_UNKNOWN": "manifest references a manifest or blob unknown to registry",
    "MANIFEST_INVALID": "manifest invalid",
    "MANIFEST_UNKNOWN": "manifest unknown to registry",
    "NAME_INVALID": "invalid repository name",
    "NAME_UNKNOWN": "repository name not known to registry",
    "SIZE_INVALID": "provided length did not match content length",
    "UNAUTHORIZED": "authentication required",
    "DENIED": "requested access to the resource is denied",
    "UNSUPPORTED": "the operation is unsupported",
    "TOOMANYREQUESTS": "too many requests",
}

# Codes a client MAY meet from registries that predate the spec: the two the spec names for
# Docker schema1, and the rest of CNCF distribution's registry (errcode) that it still sends.
LEGACY_ERROR_CODES = frozenset(
    {
        "TAG_INVALID",
        "MANIFEST_UNVERIFIED",
        "PAGINATION_NUMBER_INVALID",
        "RANGE_INVALID",
        "UNKNOWN",
        "UNAVAILABLE",
    }
)
