"""Validate OCI documents: the JSON Schemas of porter_specs plus the rules a schema cannot express.

`problems(document, kind)` lists every problem, each with the JSON pointer (RFC 6901) of the
value at fault; `validate(document, kind)` raises `ValidationError` carrying that list. A document
is first put to `schema_check`, which runs the same schemas without jsonschema; only one it
does not accept is given to jsonschema (imported then, some 60 ms), whose verdict stands and
whose errors give the problems.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from porter_specs import media_types, schema_check
from porter_specs.errors import DocumentError
from porter_specs.problem import Problem, pointer_of
from porter_specs.schema_check import SCHEMA_BASE_URI, SCHEMA_FILES

KINDS = tuple(SCHEMA_FILES)

_KIND_BY_MEDIA_TYPE = {
    media_types.DESCRIPTOR: "descriptor",
    media_types.LAYOUT_HEADER: "layout-header",
    **dict.fromkeys(media_types.MANIFESTS, "manifest"),
    **dict.fromkeys(media_types.INDEXES, "index"),
    **dict.fromkeys(media_types.IMAGE_CONFIGS, "config"),
}


class ValidationError(DocumentError):
    """A document breaks its schema or a rule of its spec; `problems` lists every one."""

    def __init__(self, kind: str, problems: list[Problem], what: str = "") -> None:
        self.kind = kind
        self.problems = problems
        self.what = what or kind
        shown = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"{self.what}: invalid {kind}: {shown}{more}")


def kind_for_media_type(media_type: str) -> str | None:
    """The validation kind of a document of this media type, or None when it has none."""
    return _KIND_BY_MEDIA_TYPE.get(media_type)


def validate(
    document: Any,
    kind: str,
    *,
    allowed_layer_types: Iterable[str] = (),
    what: str = "",
) -> None:
    """Raise `ValidationError` naming every problem of `document` (a parsed JSON value).

    `what` names the object in the error's one line (a path, a digest, a reference);
    `allowed_layer_types` admits layer media types beyond `media_types.LAYERS`.
    """
    found = problems(document, kind, allowed_layer_types=allowed_layer_types)
    if found:
        raise ValidationError(kind, found, what)


def problems(document: Any, kind: str, *, allowed_layer_types: Iterable[str] = ()) -> list[Problem]:
    """Every problem of `document` as `kind`: schema and rule problems, in pointer order."""
    from porter_specs import spec_rules

    _schema_uri(kind)
    found: set[Problem] = set()
    if not schema_check.accepts(document, kind):  # jsonschema gives the verdict and its list
        for error in _validator(kind).iter_errors(document):
            found.update(_problem_of(error))
    flagged = {p.pointer for p in found}
    allowed = frozenset(allowed_layer_types)
    for problem in spec_rules.check(document, kind, allowed):
        if problem.pointer not in flagged:
            found.add(problem)
    return sorted(found, key=_order)


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema behind `kind` (a copy; the cached one is never handed out)."""
    copy: dict[str, Any] = json.loads(json.dumps(_schemas()[_schema_uri(kind)]))
    return copy


def _schema_uri(kind: str) -> str:
    try:
        return SCHEMA_BASE_URI + SCHEMA_FILES[kind]
    except KeyError:
        raise ValueError(f"unknown document kind {kind!r} (known: {', '.join(KINDS)})") from None


def _schemas() -> dict[str, dict[str, Any]]:
    return schema_check.schemas()


@functools.cache
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, validators  # type: ignore[import-untyped]

    # JSON's integers only: Go's decoders refuse 1.0 where an int64 is wanted.
    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    )
    return validators.extend(
        Draft202012Validator, validators={"pattern": _pattern}, type_checker=checker
    )


@functools.cache
def _validator(kind: str) -> Any:
    """jsonschema's validator of `kind`, with `_validator_class`'s choices in every part.

    jsonschema checks a schema that names its dialect (`$schema`) with the stock validator of
    that dialect: a $ref to a whole file (the linux section of a runtime config, the image index
    under index.json) left the integer and pattern choices behind. The files are registered as
    draft 2020-12 resources without that key, so the class given here checks them all.
    """
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    uri = _schema_uri(kind)
    schemas = {key: _undeclared(contents) for key, contents in _schemas().items()}
    registry: Any = Registry().with_resources(
        (key, DRAFT202012.create_resource(contents)) for key, contents in schemas.items()
    )
    return _validator_class()(schemas[uri], registry=registry)


def _undeclared(contents: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in contents.items() if key != "$schema"}


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    from jsonschema.exceptions import (  # type: ignore[import-untyped]
        ValidationError as SchemaViolation,
    )

    if validator.is_type(instance, "string") and not schema_check.regex(pattern).search(instance):
        yield SchemaViolation(f"{instance!r} does not match {pattern!r}")


def _order(problem: Problem) -> tuple[Any, ...]:
    parts = problem.pointer.split("/")[1:] if problem.pointer else []
    key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
    return (key, problem.message)


_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _problem_of(error: Any) -> list[Problem]:
    """Turn a jsonschema error into problems with one clear message each."""
    path = list(error.absolute_path)
    here = pointer_of(path)
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "required" and isinstance(instance, dict):
        return [
            Problem(pointer_of([*path, name]), "required field is missing")
            for name in expected
            if name not in instance
        ]
    if keyword == "dependentRequired" and isinstance(instance, dict):
        return [
            Problem(pointer_of([*path, need]), f"required when {name!r} is set")
            for name, needs in expected.items()
            if name in instance
            for need in needs
            if need not in instance
        ]
    if keyword == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        names = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in wanted)
        return [Problem(here, f"must be {names}, not {_json_type(instance)}")]
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    return [Problem(here, custom or _generic_message(keyword, expected, instance, error))]


def _generic_message(keyword: str, expected: Any, instance: Any, error: Any) -> str:
    if keyword == "const":
        return f"must be {json.dumps(expected)}"
    if keyword == "enum":
        return "must be one of " + ", ".join(json.dumps(v) for v in expected)
    if keyword == "minimum":
        return f"must be at least {expected}"
    if keyword == "maximum":
        return f"must be at most {expected}"
    if keyword == "exclusiveMinimum":
        return f"must be greater than {expected}"
    if keyword == "minItems":
        return f"must have at least {expected} {'entry' if expected == 1 else 'entries'}"
    if keyword == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} long"
    if keyword == "pattern":
        return f"must match {expected}"
    return str(error.message)
