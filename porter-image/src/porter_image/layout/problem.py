"""A finding of `fsck` or `validate`: which object is broken, and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One integrity problem, naming the object (`blob sha256:…`, `index.json`) and why."""

    object: str
    reason: str

    def __str__(self) -> str:
        return f"{self.object}: {self.reason}"
