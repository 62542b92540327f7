"""Command-line image names: `LAYOUT:TAG`, as umoci and skopeo's `oci:` transport write them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from porter_image.errors import ImageRefError


@dataclass(frozen=True)
class ImageRef:
    """A layout directory and, optionally, a tag in it."""

    layout: Path
    tag: str | None

    def __str__(self) -> str:
        return f"{self.layout}:{self.tag}" if self.tag else str(self.layout)


def parse_ref(text: str, tag_required: bool = True) -> ImageRef:
    """Split at the last colon; a tail containing `/` is part of the path, not a tag."""
    layout, sep, tag = text.rpartition(":")
    if not sep or "/" in tag:
        layout, tag = text, ""
    if not layout:
        raise ImageRefError(text, "expected LAYOUT:TAG (the layout path is empty)")
    if tag_required and not tag:
        raise ImageRefError(text, "expected LAYOUT:TAG (no tag given)")
    return ImageRef(Path(layout), tag or None)
