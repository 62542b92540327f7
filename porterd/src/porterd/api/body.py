"""Request bodies as dockerd reads them: JSON objects whose fields have the expected types.

A body that is not JSON, not an object, or has a field of the wrong type is one
InvalidParameter (400) naming the field, never a 500 further in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import falcon

from porterd.errors import InvalidParameter


def json_object(req: falcon.Request, *, required: bool = False) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}` unless `required`."""
    raw = req.bounded_stream.read()
    if not raw.strip():
        if required:
            raise InvalidParameter("invalid JSON: the request has no body")
        return {}
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidParameter(f"invalid JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidParameter("invalid JSON: expected an object")
    return document


def string(document: Mapping[str, Any], key: str, default: str = "") -> str:
    value = document.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidParameter(f"invalid JSON: {key} must be a string")
    return value


def string_map(document: Mapping[str, Any], key: str) -> dict[str, str]:
    value = document.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidParameter(f"invalid JSON: {key} must be an object of strings")
    return dict(value)
