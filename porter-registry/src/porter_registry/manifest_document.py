"""What the registry needs to know about a pushed manifest: its type, references and subject.

Parsing happens once, on PUT; GET serves the stored bytes untouched. Schema validation uses
`porter_specs.validate`, admitting any layer media type (a registry stores artifacts too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from porter_specs import media_types
from porter_specs.canonical import load_json
from porter_specs.digest import Digest
from porter_specs.errors import DocumentError, InvalidDigestError

from porter_registry.errors import RegistryError

MANIFEST_TYPES = media_types.MANIFESTS | media_types.INDEXES
# The largest manifest accepted by default (a push, or an upstream's answer to the proxy).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ManifestDocument:
    """A validated manifest or index, reduced to what storage and the referrers API use."""

    media_type: str
    is_index: bool
    blobs: tuple[Digest, ...]
    children: tuple[Digest, ...]
    subject: Digest | None
    artifact_type: str | None
    annotations: dict[str, str] | None


def _invalid(reason: str) -> RegistryError:
    return RegistryError("MANIFEST_INVALID", reason)


def _media_type(content_type: str | None, document: dict[str, Any]) -> str:
    declared = document.get("mediaType")
    header = (content_type or "").split(";")[0].strip()
    if declared is not None and not isinstance(declared, str):
        raise _invalid("mediaType is not a string")
    if declared and header and header in MANIFEST_TYPES and declared != header:
        raise _invalid(f"mediaType {declared} does not match Content-Type {header}")
    chosen = declared or (header if header in MANIFEST_TYPES else "")
    if not chosen:
        chosen = media_types.IMAGE_INDEX if "manifests" in document else media_types.IMAGE_MANIFEST
    if chosen not in MANIFEST_TYPES:
        raise _invalid(f"unsupported manifest media type {chosen}")
    return chosen


def _descriptor_digest(descriptor: Any, where: str) -> Digest:
    if not isinstance(descriptor, dict):
        raise _invalid(f"{where} is not a descriptor")
    try:
        return Digest.parse(descriptor.get("digest"))  # type: ignore[arg-type]
    except InvalidDigestError as exc:
        raise _invalid(f"{where}: {exc}") from exc


def _schema_check(document: dict[str, Any], is_index: bool) -> None:
    try:
        from porter_specs import validate
    except ImportError:  # pragma: no cover - porter_specs without validate
        return
    layers = document.get("layers")
    layer_types: set[str] = {
        layer["mediaType"]
        for layer in (layers if isinstance(layers, list) else ())
        if isinstance(layer, dict) and isinstance(layer.get("mediaType"), str)
    }
    try:
        validate.validate(
            document, "index" if is_index else "manifest", allowed_layer_types=layer_types
        )
    except DocumentError as exc:
        raise _invalid(str(exc)) from exc


def parse_manifest(
    content: bytes, content_type: str | None, check_schema: bool = True
) -> ManifestDocument:
    """Parse and check a pushed manifest, refusing anything malformed with MANIFEST_INVALID.

    `check_schema=False` skips the JSON Schema pass, for documents already accepted once (gc).
    """
    try:
        document = load_json(content, "manifest")
    except DocumentError as exc:
        raise _invalid(str(exc)) from exc
    if not isinstance(document, dict):
        raise _invalid("manifest is not a JSON object")
    if document.get("schemaVersion") != 2:
        raise _invalid("schemaVersion must be 2")
    media_type = _media_type(content_type, document)
    is_index = media_type in media_types.INDEXES
    blobs: list[Digest] = []
    children: list[Digest] = []
    if is_index:
        entries = document.get("manifests")
        if not isinstance(entries, list):
            raise _invalid("manifests must be a list")
        children = [_descriptor_digest(d, f"manifests[{i}]") for i, d in enumerate(entries)]
    else:
        blobs.append(_descriptor_digest(document.get("config"), "config"))
        layers = document.get("layers")
        if not isinstance(layers, list):
            raise _invalid("layers must be a list")
        for i, layer in enumerate(layers):
            digest = _descriptor_digest(layer, f"layers[{i}]")
            if not layer.get("urls"):  # non-distributable layers live elsewhere
                blobs.append(digest)
    if check_schema:
        _schema_check(document, is_index)
    subject = document.get("subject")
    artifact_type = document.get("artifactType")
    if artifact_type is None and not is_index:
        artifact_type = document["config"].get("mediaType")
    annotations = document.get("annotations")
    return ManifestDocument(
        media_type=media_type,
        is_index=is_index,
        blobs=tuple(blobs),
        children=tuple(children),
        subject=_descriptor_digest(subject, "subject") if subject is not None else None,
        artifact_type=artifact_type if isinstance(artifact_type, str) else None,
        annotations=annotations if isinstance(annotations, dict) else None,
    )
