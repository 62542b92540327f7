"""The reference graph of a layout: which descriptors a manifest or index points to.

gc and fsck both walk it from index.json through indexes, manifests, configs, layers and
subjects (a `subject` may name a manifest that is not in the layout: the image-spec allows
that, so it is followed when present and never required).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from porter_specs import media_types
from porter_specs.errors import PorterError
from porter_specs.models import Descriptor


@dataclass(frozen=True)
class Edge:
    """A reference from one document to a blob; `required` is False for subjects."""

    field: str
    descriptor: Descriptor
    required: bool = True


def is_document(media_type: str) -> bool:
    """True for media types whose blobs are JSON documents that reference others."""
    return media_type in media_types.MANIFESTS or media_type in media_types.INDEXES


def edges(media_type: str, document: Any) -> Iterator[Edge]:
    """The references of a manifest or index document (raises PorterError on bad shape)."""
    if not isinstance(document, dict):
        raise _shape("is not a JSON object")
    if media_type in media_types.MANIFESTS:
        yield Edge("/config", _descriptor(document.get("config"), "/config"))
        for i, layer in enumerate(_list(document, "layers")):
            yield Edge(f"/layers/{i}", _descriptor(layer, f"/layers/{i}"))
    elif media_type in media_types.INDEXES:
        for i, child in enumerate(_list(document, "manifests")):
            yield Edge(f"/manifests/{i}", _descriptor(child, f"/manifests/{i}"))
    else:
        return
    if document.get("subject") is not None:
        yield Edge("/subject", _descriptor(document["subject"], "/subject"), required=False)


def _list(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise _shape(f"/{key} is not a list")
    return value


def _descriptor(raw: Any, pointer: str) -> Descriptor:
    try:
        return Descriptor.from_json(raw)
    except (PorterError, TypeError, AttributeError, KeyError) as exc:
        raise _shape(f"{pointer}: invalid descriptor: {exc}") from exc


def _shape(reason: str) -> PorterError:
    from porter_specs.errors import DocumentError

    return DocumentError(reason)
