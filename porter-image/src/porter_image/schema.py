"""Schema checks of documents, through `porter_specs.validate`.

One adapter so the layout checks (fsck, validate) and image loading speak to the spec
validator in one way, and get back plain problem strings that name a JSON pointer.
"""

from __future__ import annotations

from typing import Any

from porter_specs import media_types
from porter_specs.errors import PorterError
from porter_specs.models import ImageConfig, Index, Manifest

# media type of a blob -> the validator's document kind
KIND_OF_MEDIA_TYPE = {
    **{m: "manifest" for m in media_types.MANIFESTS},
    **{m: "index" for m in media_types.INDEXES},
    **{m: "config" for m in media_types.IMAGE_CONFIGS},
}
_MODELS = {"manifest": Manifest, "index": Index, "config": ImageConfig, "index.json": Index}


def schema_problems(document: Any, kind: str) -> list[str]:
    """What is wrong with `document` as a `kind` (empty when it is valid)."""
    try:
        from porter_specs.validate import validate
    except ImportError:  # the validator is optional for reading; models still check shape
        return _model_problems(document, kind)
    try:
        result = validate(document, kind)
    except PorterError as exc:
        return [str(exc)]
    return _as_strings(result)


def _as_strings(result: Any) -> list[str]:
    if result is None or result is True:
        return []
    for name in ("problems", "errors"):
        if hasattr(result, name):
            result = getattr(result, name)
            break
    if isinstance(result, (list, tuple)):
        return [str(p) for p in result]
    return [] if not result else [str(result)]


def _model_problems(document: Any, kind: str) -> list[str]:
    model = _MODELS.get(kind)
    if model is None:
        return []
    if not isinstance(document, dict):
        return [f"/: {kind} is not a JSON object"]
    try:
        model.from_json(document)
    except (PorterError, KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"{kind}: {exc}"]
    return []
