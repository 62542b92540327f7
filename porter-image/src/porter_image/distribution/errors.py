"""The errors of talking to a registry; each `str()` is the one line a user sees."""

from __future__ import annotations

import json
from typing import Any

from porter_specs.errors import PorterError


class RegistryError(PorterError):
    """A registry refused a request or answered something a client must not accept."""

    def __init__(self, where: str, reason: str, status: int | None = None, code: str = "") -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason
        self.status = status
        self.code = code


class RegistryUnauthorizedError(RegistryError):
    """Credentials are missing or wrong (401), or the access is denied (403)."""


class RegistryNotFoundError(RegistryError):
    """The repository, manifest or blob is not there (404)."""


class RegistryUnavailableError(RegistryError):
    """The registry cannot be reached, or kept failing (5xx, 429) through every retry."""


class ManifestRefusedError(RegistryError):
    """A manifest that porter-image will not copy: schema 1, too large, not JSON, unknown type."""


def error_detail(body: bytes) -> tuple[str, str]:
    """(code, message) of the first error of a distribution-spec error body, or ("", "")."""
    try:
        document: Any = json.loads(body[:65536])
        first = document["errors"][0]
        return str(first.get("code", "")), str(first.get("message", ""))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return "", ""
