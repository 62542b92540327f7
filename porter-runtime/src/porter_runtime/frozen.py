"""Immutable value objects without `dataclasses`.

`dataclasses` imports `inspect`, `re` and more, several milliseconds at every runtime start;
the runtime's value types (device rules, compiled seccomp programs) derive from `Frozen`
instead: slots, fields given in constructor order by `_FIELDS`, equality, hashing, repr and
pickling by those fields, and no assignment after construction.
"""

from __future__ import annotations


class Frozen:
    __slots__ = ()
    _FIELDS: tuple[str, ...] = ()  # in constructor order

    def __init__(self, *values: object) -> None:
        for name, value in zip(self._FIELDS, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._fields() == self._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._FIELDS)
        return f"{type(self).__name__}({inner})"

    def __reduce__(self) -> tuple:
        return (type(self), self._fields())
