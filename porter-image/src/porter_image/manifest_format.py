"""OCI and Docker schema 2 manifests converted both ways (`copy --format oci|v2s2`).

The config and layers keep their bytes; only media types change, so a converted manifest (and
an index over converted manifests) gets a new digest. What schema 2 cannot say is refused:
zstd layers, artifacts (`subject`, `artifactType`); manifest annotations are dropped, as
skopeo drops them.
"""

from __future__ import annotations

from typing import Any

from porter_specs import media_types as mt
from porter_specs.canonical import canonical_json
from porter_specs.digest import from_bytes
from porter_specs.models import Descriptor

from porter_image.distribution.manifests import RawManifest
from porter_image.errors import ImageError

DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
FORMATS = ("oci", "v2s2")
_TO_DOCKER = {
    mt.IMAGE_MANIFEST: mt.DOCKER_MANIFEST,
    mt.IMAGE_INDEX: mt.DOCKER_MANIFEST_LIST,
    mt.IMAGE_CONFIG: mt.DOCKER_CONFIG,
    mt.LAYER_TAR_GZIP: mt.DOCKER_LAYER_TAR_GZIP,
    mt.LAYER_TAR: DOCKER_LAYER_TAR,
    mt.LAYER_NONDISTRIBUTABLE_TAR_GZIP: mt.DOCKER_FOREIGN_LAYER_TAR_GZIP,
}
_TO_OCI = {docker: oci for oci, docker in _TO_DOCKER.items()}


def format_of(media_type: str) -> str:
    return "v2s2" if media_type in _TO_OCI else "oci"


def convert(
    raw: RawManifest, target: str, children: dict[str, Descriptor] | None = None
) -> RawManifest:
    """`raw` in `target` format ("oci" or "v2s2"); an index's entries become `children`
    (old digest -> the descriptor of the converted child)."""
    children = children or {}
    if format_of(raw.media_type) == target and not children:
        return raw
    table = _TO_DOCKER if target == "v2s2" else _TO_OCI
    document = raw.document()
    where = f"manifest {raw.digest}"
    if target == "v2s2":
        _check_expressible(document, where)
    converted: dict[str, Any] = {**document, "mediaType": _mapped(table, raw.media_type, where)}
    if raw.is_index:
        converted["manifests"] = [
            _entry(entry, children, table, where) for entry in document.get("manifests") or []
        ]
    else:
        converted["config"] = _descriptor(document["config"], table, where)
        converted["layers"] = [_descriptor(layer, table, where) for layer in document["layers"]]
    data = canonical_json(converted)
    return RawManifest(data, converted["mediaType"], from_bytes(data))


def _check_expressible(document: dict[str, Any], where: str) -> None:
    if document.get("subject") or document.get("artifactType"):
        raise ImageError(where, "an artifact (subject, artifactType) cannot be Docker schema 2")
    document.pop("annotations", None)


def _mapped(table: dict[str, str], media_type: str, where: str) -> str:
    if media_type in table.values():
        return media_type
    if media_type not in table:
        raise ImageError(where, f"{media_type} has no counterpart in the other format")
    return table[media_type]


def _descriptor(raw: dict[str, Any], table: dict[str, str], where: str) -> dict[str, Any]:
    return {**raw, "mediaType": _mapped(table, raw["mediaType"], where)}


def _entry(
    raw: dict[str, Any], children: dict[str, Descriptor], table: dict[str, str], where: str
) -> dict[str, Any]:
    child = children.get(raw["digest"])
    if child is None:
        return _descriptor(raw, table, where)
    return {**raw, "mediaType": child.media_type, "digest": str(child.digest), "size": child.size}
