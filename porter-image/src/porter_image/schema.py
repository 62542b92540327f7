"""Schema checks of documents, through `porter_specs.validate`.

One adapter so the layout checks (fsck, validate) and image loading ask the spec validator
in one way and get back plain problem strings, each naming a JSON pointer.
"""

from __future__ import annotations

from typing import Any

from porter_specs import media_types

# media type of a blob -> the validator's document kind
KIND_OF_MEDIA_TYPE = {
    **dict.fromkeys(media_types.MANIFESTS, "manifest"),
    **dict.fromkeys(media_types.INDEXES, "index"),
    **dict.fromkeys(media_types.IMAGE_CONFIGS, "config"),
}


def schema_problems(document: Any, kind: str) -> list[str]:
    """What is wrong with `document` as a `kind` (empty when it is valid); the validator is
    imported on the first check, so that loading images that need none stays cheap."""
    from porter_specs.validate import problems

    return [str(problem) for problem in problems(document, kind)]
