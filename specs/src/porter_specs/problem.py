"""What a validation finds wrong, and where: the one type the schema check (`validate`) and
the spec rules beyond the schemas (`spec_rules`, `runtime_rules`) both produce. It sits
below all three so that they import it, never each other in a loop.

A plain class rather than a dataclass: the runtime validates every config.json it is given,
and `dataclasses` (with `inspect`) costs milliseconds to import.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Iterable


class Problem:
    """One thing wrong with a document: where (a JSON pointer, "" for the whole) and why.

    Immutable, hashable, equal by value and ordered by pointer, then message."""

    __slots__ = ("message", "pointer")
    pointer: str
    message: str

    def __init__(self, pointer: str, message: str) -> None:
        object.__setattr__(self, "pointer", pointer)
        object.__setattr__(self, "message", message)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a Problem")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a Problem")

    def _key(self) -> tuple[str, str]:
        return (self.pointer, self.message)

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if isinstance(other, Problem) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Problem) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Problem) -> bool:
        return self._key() <= other._key()

    def __repr__(self) -> str:
        return f"Problem(pointer={self.pointer!r}, message={self.message!r})"

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}" if self.pointer else self.message


def pointer_of(path: Iterable[str | int]) -> str:
    """The RFC 6901 JSON pointer of a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
