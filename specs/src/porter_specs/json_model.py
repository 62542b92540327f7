"""JSON to frozen dataclasses and back, driven by the dataclasses' type hints.

The runtime-spec has dozens of small structs; writing from_json/to_json by hand for each would
be hundreds of lines of copy. A model subclasses `JsonModel`; its JSON keys are the field names
in camelCase unless `key("containerID")` says otherwise. Supported field types: str, int, bool,
float, Enum, nested JsonModel, `X | None`, `tuple[X, ...]` and `dict[str, X]`.

On the way in, missing required fields and values of the wrong JSON type raise `DocumentError`
naming the JSON pointer; unknown keys are ignored (the specs' extensibility rule). On the way
out, None and empty collections are omitted, as the specs ask of unset optional fields.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, NamedTuple, TypeVar

from porter_specs.errors import DocumentError

Model = TypeVar("Model", bound="JsonModel")
Path = tuple[str | int, ...]


def key(name: str) -> dict[str, str]:
    """Field metadata naming a JSON key that is not the field's name in camelCase."""
    return {"json": name}


class _Field(NamedTuple):
    name: str
    key: str
    hint: Any
    required: bool


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part.title() for part in rest)


_FIELDS: dict[type, tuple[_Field, ...]] = {}


def _fields(cls: type) -> tuple[_Field, ...]:
    """The fields of a model class, with resolved type hints (computed once per class)."""
    cached = _FIELDS.get(cls)
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls)
    cached = _FIELDS[cls] = tuple(
        _Field(
            f.name,
            f.metadata.get("json", _camel(f.name)),
            hints[f.name],
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    )
    return cached


def _where(what: str, path: Path) -> str:
    pointer = "".join(f"/{part}" for part in path)
    return f"{what}: {pointer}" if pointer else what


class JsonModel:
    """Base of the typed models: `from_json(mapping)` and `to_json()`."""

    _what = "document"

    @classmethod
    def from_json(cls: type[Model], document: Any) -> Model:
        return cls._decode(document, ())

    @classmethod
    def _decode(cls: type[Model], document: Any, path: Path) -> Model:
        if not isinstance(document, dict):
            raise DocumentError(f"{_where(cls._what, path)}: expected an object")
        values = {}
        for field in _fields(cls):
            value = document.get(field.key)
            if value is not None:
                values[field.name] = _decode(field.hint, value, (*path, field.key), cls._what)
            elif field.required:
                where = _where(cls._what, (*path, field.key))
                raise DocumentError(f"{where}: missing required field")
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        document = {}
        for field in _fields(type(self)):
            value = getattr(self, field.name)
            if value is None or (isinstance(value, tuple | dict) and not value):
                continue
            document[field.key] = _encode(value)
        return document


def _decode(hint: Any, value: Any, path: Path, what: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _decode(inner, value, path, what)
    if origin is tuple:
        _expect(isinstance(value, list), "an array", path, what)
        return tuple(_decode(args[0], item, (*path, i), what) for i, item in enumerate(value))
    if origin is dict:
        _expect(isinstance(value, dict), "an object", path, what)
        return {k: _decode(args[1], v, (*path, k), what) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, JsonModel):
        return hint._decode(value, path)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            known = ", ".join(str(member.value) for member in hint)
            raise DocumentError(f"{_where(what, path)}: {value!r} is not one of {known}") from None
    if hint is bool:
        _expect(isinstance(value, bool), "a boolean", path, what)
    elif hint is int:
        _expect(isinstance(value, int) and not isinstance(value, bool), "an integer", path, what)
    elif hint is float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        _expect(number, "a number", path, what)
    elif hint is str:
        _expect(isinstance(value, str), "a string", path, what)
    return value


def _expect(ok: bool, expected: str, path: Path, what: str) -> None:
    if not ok:
        raise DocumentError(f"{_where(what, path)}: expected {expected}")


def _encode(value: Any) -> Any:
    if isinstance(value, JsonModel):
        return value.to_json()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value
