"""The distribution-spec client: one registry's HTTP API with auth, TLS, retries and limits.

`RegistryClient` speaks to one registry host; `porter_image.copy` moves images through it.
"""

from __future__ import annotations

from porter_image.distribution.client import RegistryClient, RegistryOptions
from porter_image.distribution.errors import (
    ManifestRefusedError,
    RegistryError,
    RegistryNotFoundError,
    RegistryUnauthorizedError,
    RegistryUnavailableError,
)

__all__ = [
    "ManifestRefusedError",
    "RegistryClient",
    "RegistryError",
    "RegistryNotFoundError",
    "RegistryOptions",
    "RegistryUnauthorizedError",
    "RegistryUnavailableError",
]
