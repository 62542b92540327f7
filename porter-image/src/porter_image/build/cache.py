"""The build cache, kept with the layout so that any later build (any process) reuses it.

A step's key is a digest of its parent's key, its instruction after substitution and, for
COPY and ADD, the content digest of its sources (Docker's rule). The entry under a key is
the image state after the step: its config and its layers. An entry whose layers gc removed
from the layout is a miss.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from porter_specs.models import Descriptor

from porter_image.layout import Layout
from porter_image.layout.atomic import write_file_atomic

BUILD_FOLDER = "porter-build"


def step_key(parent: str, *parts: str) -> str:
    """The key of a step over `parent`'s key: a sha256 of the parts, in order."""
    h = hashlib.sha256(parent.encode())
    for part in parts:
        h.update(b"\0" + part.encode("utf-8", "surrogateescape"))
    return h.hexdigest()


@dataclass(frozen=True)
class CachedState:
    config: dict[str, Any]
    layers: tuple[Descriptor, ...]


class BuildCache:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.folder = Path(layout.path) / BUILD_FOLDER / "cache"
        self.used: list[str] = []  # keys this build looked up or stored, for --cache-to

    def read(self, key: str) -> dict[str, Any] | None:
        """The stored entry as JSON, unchecked."""
        try:
            document: dict[str, Any] = json.loads((self.folder / f"{key}.json").read_bytes())
        except (OSError, ValueError):
            return None
        return document

    def get(self, key: str) -> CachedState | None:
        if key not in self.used:
            self.used.append(key)
        document = self.read(key)
        if document is None:
            return None
        try:
            layers = tuple(Descriptor.from_json(raw) for raw in document["layers"])
            config = document["config"]
        except (ValueError, KeyError, TypeError):
            return None
        if not all(self.layout.has_blob(layer.digest) for layer in layers):
            return None
        return CachedState(config, layers)

    def put(self, key: str, state: CachedState) -> None:
        if key not in self.used:
            self.used.append(key)
        document = {"config": state.config, "layers": [layer.to_json() for layer in state.layers]}
        self.write(key, document)

    def write(self, key: str, document: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_file_atomic(self.folder / f"{key}.json", json.dumps(document).encode())
