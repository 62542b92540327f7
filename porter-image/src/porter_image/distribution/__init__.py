"""The distribution-spec client: one registry's HTTP API with auth, TLS, retries and limits.

`RegistryClient` speaks to one registry host; `porter_image.copy` moves images through it.
The names below are imported on first use, so that importing `distribution.errors` (for the
command line's exit codes) does not load requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from porter_image.lazy import lazy_exports

if TYPE_CHECKING:
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
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "RegistryClient": "client",
        "RegistryOptions": "client",
        "ManifestRefusedError": "errors",
        "RegistryError": "errors",
        "RegistryNotFoundError": "errors",
        "RegistryUnauthorizedError": "errors",
        "RegistryUnavailableError": "errors",
    },
)
