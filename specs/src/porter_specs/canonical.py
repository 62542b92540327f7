"""Canonical JSON: the same document always encodes to the same bytes, hence the same digest."""

from __future__ import annotations

import json
from typing import Any

from porter_specs.errors import DocumentError


def canonical_json(document: Any) -> bytes:
    """Encode with sorted keys, no insignificant white space, UTF-8 (as umoci and containerd do)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def load_json(data: bytes | str, what: str = "document") -> Any:
    """Parse JSON, turning a syntax error into one clear `DocumentError` line."""
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{what}: invalid JSON: {exc}") from exc
