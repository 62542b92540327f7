"""Manifests from a registry: size limit, JSON, media type, digest; schema 1 refused."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from porter_specs import media_types
from porter_specs.digest import Digest, from_bytes
from porter_specs.models import Descriptor

from porter_image.distribution.errors import ManifestRefusedError

# The distribution-spec says registries should accept manifests of at least 4 MiB; a larger
# one is refused rather than read into memory.
MANIFEST_LIMIT = 4 << 20
SUPPORTED = (
    media_types.IMAGE_MANIFEST,
    media_types.IMAGE_INDEX,
    media_types.DOCKER_MANIFEST,
    media_types.DOCKER_MANIFEST_LIST,
)
SCHEMA1 = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    }
)
ACCEPT = ", ".join(SUPPORTED)


@dataclass(frozen=True)
class RawManifest:
    """A manifest's exact bytes (its digest is over them), media type and digest."""

    data: bytes
    media_type: str
    digest: Digest

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.data))

    @property
    def is_index(self) -> bool:
        return self.media_type in media_types.INDEXES

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.data)
        return document


def check_manifest(
    data: bytes, content_type: str, where: str, expected: Digest | None = None
) -> RawManifest:
    """Accept `data` as a manifest of a supported kind, or raise ManifestRefusedError."""
    if len(data) > MANIFEST_LIMIT:
        raise ManifestRefusedError(where, f"manifest larger than {MANIFEST_LIMIT} bytes")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ManifestRefusedError(where, "manifest is not JSON") from None
    if not isinstance(document, dict):
        raise ManifestRefusedError(where, "manifest is not a JSON object")
    content_type = content_type.split(";")[0].strip()
    media_type = document.get("mediaType") or content_type or _infer(document)
    if document.get("schemaVersion") == 1 or media_type in SCHEMA1:
        raise ManifestRefusedError(
            where, "Docker schema 1 manifests are not supported (push the image again as v2)"
        )
    if media_type not in SUPPORTED:
        media_type = _infer(document) if media_type == "application/json" else media_type
    if media_type not in SUPPORTED:
        raise ManifestRefusedError(where, f"unknown manifest media type {media_type!r}")
    digest = from_bytes(data, expected.algorithm if expected else "sha256")
    if expected is not None and digest != expected:
        raise ManifestRefusedError(
            where, f"manifest digest mismatch: asked for {expected}, got {digest}"
        )
    return RawManifest(data, media_type, digest)


def _infer(document: dict[str, Any]) -> str:
    """The OCI type a manifest without `mediaType` has (the image-spec lets it leave it out)."""
    if "manifests" in document:
        return media_types.IMAGE_INDEX
    if "config" in document:
        return media_types.IMAGE_MANIFEST
    return ""
