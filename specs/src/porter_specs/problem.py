"""What a validation finds wrong, and where: the one type the schema check (`validate`) and
the spec rules beyond the schemas (`spec_rules`, `runtime_rules`) both produce. It sits
below all three so that they import it, never each other in a loop."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a document: where (a JSON pointer, "" for the whole) and why."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}" if self.pointer else self.message


def pointer_of(path: Iterable[str | int]) -> str:
    """The RFC 6901 JSON pointer of a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
