"""Typed progress events of a copy, the kind porterd turns into Docker's JSON progress stream.

The statuses are Docker's own words, so that a relay only has to copy them:

    pull   Pulling fs layer -> Downloading (current/total) -> Download complete | Already exists
    push   Preparing -> Pushing (current/total) -> Pushed | Layer already exists | Mounted from R
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from porter_specs.digest import Digest


class Status(enum.StrEnum):
    PULLING = "Pulling fs layer"
    DOWNLOADING = "Downloading"
    DOWNLOADED = "Download complete"
    EXISTS = "Already exists"
    PREPARING = "Preparing"
    PUSHING = "Pushing"
    PUSHED = "Pushed"
    LAYER_EXISTS = "Layer already exists"
    MOUNTED = "Mounted from"
    RETRYING = "Retrying"


class BlobKind(enum.StrEnum):
    CONFIG = "config"
    LAYER = "layer"


@dataclass(frozen=True)
class ProgressEvent:
    """One step of one blob: `id` is the short id docker shows (12 hex digits of the digest)."""

    id: str
    digest: Digest
    kind: BlobKind
    status: Status
    current: int = 0
    total: int = 0
    detail: str = ""  # the repository a blob was mounted from, the error a retry follows

    @property
    def message(self) -> str:
        return f"{self.status} {self.detail}" if self.detail else str(self.status)


ProgressCallback = Callable[[ProgressEvent], None]


def short_id(digest: Digest) -> str:
    return digest.encoded[:12]
