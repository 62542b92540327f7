"""Validate OCI documents: the JSON Schemas of porter_specs plus the rules a schema cannot express.

`problems(document, kind)` lists every problem, each with the JSON pointer (RFC 6901) of the
value at fault; `validate(document, kind)` raises `ValidationError` carrying that list. A document
is first put to `schema_check`, which runs the same schemas without jsonschema; only one it
does not accept is given to jsonschema (imported then, some 60 ms), whose verdict stands and
whose errors give the problems.
"""

from __future__ import annotations

from porter_specs import media_types, schema_check
from porter_specs.errors import DocumentError
from porter_specs.problem import Problem, pointer_of
from porter_specs.schema_check import SCHEMA_BASE_URI, SCHEMA_FILES

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start, which validates here
    from collections.abc import Iterable, Iterator
    from typing import Any

__all__ = [
    "KINDS",
    "SCHEMA_BASE_URI",
    "SCHEMA_FILES",
    "Problem",
    "ValidationError",
    "kind_for_media_type",
    "pointer_of",
    "problems",
    "schema",
    "validate",
]

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
    _schema_uri(kind)
    found: set[Problem] = set()
    if not schema_check.accepts(document, kind):  # jsonschema gives the verdict and its list
        from porter_specs.schema_problems import schema_problems

        found = schema_problems(document, kind)
    flagged = {p.pointer for p in found}
    for problem in _rule_problems(document, kind, frozenset(allowed_layer_types)):
        if problem.pointer not in flagged:
            found.add(problem)
    return sorted(found, key=_order)


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema behind `kind` (a copy; the cached one is never handed out)."""
    import copy

    return copy.deepcopy(schema_check.schema_file(_schema_uri(kind)))


def _schema_uri(kind: str) -> str:
    try:
        return SCHEMA_BASE_URI + SCHEMA_FILES[kind]
    except KeyError:
        raise ValueError(f"unknown document kind {kind!r} (known: {', '.join(KINDS)})") from None


def _rule_problems(document: Any, kind: str, allowed: frozenset[str]) -> Iterator[Problem]:
    """The spec's rules beyond the schema: the runtime-spec's alone for a runtime config, so
    that the runtime does not import the image-spec's (digests, hashlib)."""
    if kind == "runtime-config":
        from porter_specs import runtime_rules

        return runtime_rules.check_config(document) if isinstance(document, dict) else iter(())
    from porter_specs import spec_rules

    return spec_rules.check(document, kind, allowed)


def _order(problem: Problem) -> tuple[Any, ...]:
    parts = problem.pointer.split("/")[1:] if problem.pointer else []
    key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
    return (key, problem.message)
