"""jsonschema's verdict on a document, as porter_specs' problems: one clear message each.

porter_specs.validate comes here only for a document that `schema_check` does not accept, so
jsonschema (some 60 ms to import) is imported only then.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

from porter_specs import schema_check
from porter_specs.problem import Problem, pointer_of
from porter_specs.schema_check import SCHEMA_BASE_URI, SCHEMA_FILES
from porter_specs.schema_pattern import ecma_regex


def schema_problems(document: Any, kind: str) -> set[Problem]:
    """Every problem jsonschema finds in `document` against the schema of `kind`."""
    found: set[Problem] = set()
    for error in validator(kind).iter_errors(document):
        found.update(_problem_of(error))
    return found


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
def validator(kind: str) -> Any:
    """jsonschema's validator of `kind`, with `_validator_class`'s choices in every part.

    jsonschema checks a schema that names its dialect (`$schema`) with the stock validator of
    that dialect: a $ref to a whole file (the linux section of a runtime config, the image index
    under index.json) left the integer and pattern choices behind. The files are registered as
    draft 2020-12 resources without that key, so the class given here checks them all.
    """
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    uri = SCHEMA_BASE_URI + SCHEMA_FILES[kind]
    schemas = {key: _undeclared(contents) for key, contents in schema_check.schemas().items()}
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

    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield SchemaViolation(f"{instance!r} does not match {pattern!r}")


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
