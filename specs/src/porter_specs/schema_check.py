"""A quick yes to "does this document satisfy its schema?", without jsonschema.

`accepts(document, kind)` runs the JSON Schemas under porter_specs/schemas/ with the keywords
they use (draft 2020-12: type, $ref, properties, required, items, enum, const, pattern,
minLength, minimum, maximum, exclusiveMinimum, minItems, additionalProperties, anyOf, not,
if/then/else, dependentRequired) and with the choices of porter_specs.validate's jsonschema
validator: `integer` is a JSON integer only (not 1.0, not a boolean), and `pattern` is a search
with an ECMA-262 final `$`. It answers True only for a document jsonschema accepts too; False
means "rejected, or a keyword or value this check does not know": porter_specs.validate then
asks jsonschema for the verdict and its list of problems.

jsonschema costs some 60 ms to import; this module imports nothing beyond the interpreter's
start-up modules (patterns are matched by schema_pattern, without `re` where it can), so the
runtime can check every config.json it is given.
"""

from __future__ import annotations

from porter_specs.runtime_schema_documents import FILES as RUNTIME_FILES
from porter_specs.runtime_schema_documents import PATTERNS
from porter_specs.schema_pattern import compile_pattern

SCHEMA_BASE_URI = "https://schemas.porter.example/"

# kind -> schema file under porter_specs/schemas/
SCHEMA_FILES = {
    "descriptor": "descriptor.json",
    "manifest": "image-manifest.json",
    "index": "image-index.json",
    "config": "image-config.json",
    "layout-header": "oci-layout.json",
    "index.json": "layout-index.json",
    "runtime-config": "runtime-config.json",
    "runtime-state": "runtime-state.json",
    "distribution-error": "distribution-error.json",
}

# keywords that say nothing about validity
_ANNOTATIONS = frozenset(
    {"$schema", "$defs", "$comment", "title", "description", "default", "examples", "x-message"}
)
_loaded: dict[str, dict] = {}
# (id of a schema document, a $ref in it) -> (that document, the target, the target's document)
_targets: dict[tuple[int, str], tuple[dict, object, dict]] = {}


class _Unsure(Exception):
    """A keyword, reference or value this check does not handle: jsonschema must decide."""


def accepts(document: object, kind: str) -> bool:
    """True when `document` certainly satisfies the schema of `kind`; False when it does not,
    or when this check cannot tell (then jsonschema gives the verdict)."""
    try:
        root = schema_file(SCHEMA_BASE_URI + SCHEMA_FILES[kind])
        return _valid(document, root, root)
    except Exception:  # _Unsure, or anything unforeseen: jsonschema decides
        return False


def schemas() -> dict[str, dict]:
    """Every schema of porter_specs/schemas/ by its $id, built once (never to be changed)."""
    from porter_specs.schema_documents import FILES

    for name in (*RUNTIME_FILES, *FILES):
        schema_file(SCHEMA_BASE_URI + name)
    return dict(_loaded)


def schema_file(uri: str) -> dict:
    """The schema file whose $id is `uri`, built on first use: a check builds only the files
    its kind refers to, and one of a runtime-spec kind imports only runtime_schema_documents."""
    contents = _loaded.get(uri)
    if contents is None:
        name = uri.removeprefix(SCHEMA_BASE_URI)
        if name == uri:
            raise KeyError(uri)
        build = RUNTIME_FILES.get(name)
        if build is None:
            from porter_specs.schema_documents import FILES

            build = FILES[name]
        contents = _loaded[uri] = build()
    return contents


def _valid(instance: object, schema: object, root: dict) -> bool:
    """Whether `instance` satisfies `schema`, a part of the schema document `root`."""
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        raise _Unsure
    for keyword, value in schema.items():
        check = _KEYWORDS.get(keyword)
        if check is not None:
            if not check(instance, value, schema, root):
                return False
        elif keyword == "$id":
            if schema is not root:  # a nested resource: its own base URI
                raise _Unsure
        elif keyword not in _ANNOTATIONS:
            raise _Unsure
    return True


def _is_type(instance: object, name: str) -> bool:
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "integer":
        return type(instance) is int  # not bool, not 1.0 (porter_specs.validate's checker)
    if name == "number":
        return type(instance) in (int, float)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    raise _Unsure


def _type(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    if isinstance(value, str):
        return _is_type(instance, value)
    if isinstance(value, list):
        return any(_is_type(instance, name) for name in value)
    raise _Unsure


def _ref(instance: object, value: object, _schema: dict, root: dict) -> bool:
    if not isinstance(value, str):
        raise _Unsure
    entry = _targets.get((id(root), value))
    if entry is None or entry[0] is not root:  # resolved once per document and reference
        entry = _targets[(id(root), value)] = (root, *_resolve(value, root))
    return _valid(instance, entry[1], entry[2])


def _resolve(value: str, root: dict) -> tuple[object, dict]:
    """The schema a $ref names, and the schema document it sits in."""
    document, _, pointer = value.partition("#")
    if document:
        if "/" in document or ":" in document:
            raise _Unsure
        root = schema_file(SCHEMA_BASE_URI + document)
    target: object = root
    if pointer:
        if not pointer.startswith("/") or "%" in pointer:
            raise _Unsure
        for part in pointer[1:].split("/"):
            if not isinstance(target, dict):
                raise _Unsure
            target = target[part.replace("~1", "/").replace("~0", "~")]
    return target, root


def _properties(instance: object, value: object, _schema: dict, root: dict) -> bool:
    if not isinstance(instance, dict):
        return True
    if not isinstance(value, dict):
        raise _Unsure
    return all(_valid(instance[name], sub, root) for name, sub in value.items() if name in instance)


def _additional_properties(instance: object, value: object, schema: dict, root: dict) -> bool:
    if not isinstance(instance, dict):
        return True
    if "patternProperties" in schema:
        raise _Unsure
    named = schema.get("properties", {})
    return all(_valid(item, value, root) for key, item in instance.items() if key not in named)


def _items(instance: object, value: object, schema: dict, root: dict) -> bool:
    if not isinstance(instance, list):
        return True
    if "prefixItems" in schema:
        raise _Unsure
    return all(_valid(item, value, root) for item in instance)


def _required(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    if not isinstance(instance, dict):
        return True
    if not isinstance(value, list):
        raise _Unsure
    return all(name in instance for name in value)


def _dependent_required(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    if not isinstance(instance, dict):
        return True
    if not isinstance(value, dict):
        raise _Unsure
    return all(
        need in instance for name, needs in value.items() if name in instance for need in needs
    )


def _equal(expected: object, instance: object) -> bool:
    """JSON equality as jsonschema sees it (True is not 1, 2.0 is 2), for a scalar `expected`."""
    if isinstance(expected, (dict, list)):
        raise _Unsure
    if isinstance(instance, (dict, list)):
        return False
    if isinstance(expected, str) or isinstance(instance, str):
        return expected == instance
    if isinstance(expected, bool) or isinstance(instance, bool):
        return expected is instance
    _number(instance)  # a number of another kind (Decimal...) is jsonschema's to compare
    return expected == instance


def _enum(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    if not isinstance(value, list):
        raise _Unsure
    return any(_equal(each, instance) for each in value)


def _const(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    return _equal(value, instance)


_NOT_NUMBERS = (str, dict, list, bool, type(None))


def _number(instance: object) -> int | float | None:
    """The instance as a number to compare, None when it is no number at all."""
    if type(instance) in (int, float):
        return instance  # type: ignore[return-value]
    if type(instance) in _NOT_NUMBERS:
        return None
    raise _Unsure  # an int subclass, a Decimal, a value no JSON parser makes


def _limit(value: object) -> int | float:
    if type(value) not in (int, float):
        raise _Unsure
    return value  # type: ignore[return-value]


def _minimum(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    number = _number(instance)
    return number is None or not number < _limit(value)


def _maximum(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    number = _number(instance)
    return number is None or not number > _limit(value)


def _exclusive_minimum(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    number = _number(instance)
    return number is None or not number <= _limit(value)


def _min_length(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    return not isinstance(instance, str) or len(instance) >= _limit(value)


def _min_items(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    return not isinstance(instance, list) or len(instance) >= _limit(value)


def _pattern(instance: object, value: object, _schema: dict, _root: dict) -> bool:
    if not isinstance(value, str):
        raise _Unsure
    return not isinstance(instance, str) or bool(
        compile_pattern(value, PATTERNS.get(value)).search(instance)
    )


def _any_of(instance: object, value: object, _schema: dict, root: dict) -> bool:
    if not isinstance(value, list) or not value:
        raise _Unsure
    return any(_valid(instance, sub, root) for sub in value)


def _not(instance: object, value: object, _schema: dict, root: dict) -> bool:
    return not _valid(instance, value, root)


def _if(instance: object, value: object, schema: dict, root: dict) -> bool:
    branch = "then" if _valid(instance, value, root) else "else"
    return _valid(instance, schema.get(branch, True), root)


def _branch(_instance: object, _value: object, _schema: dict, _root: dict) -> bool:
    return True  # then and else are read by `if`, and mean nothing without it


_KEYWORDS = {
    "type": _type,
    "$ref": _ref,
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "items": _items,
    "required": _required,
    "dependentRequired": _dependent_required,
    "enum": _enum,
    "const": _const,
    "minimum": _minimum,
    "maximum": _maximum,
    "exclusiveMinimum": _exclusive_minimum,
    "minLength": _min_length,
    "minItems": _min_items,
    "pattern": _pattern,
    "anyOf": _any_of,
    "not": _not,
    "if": _if,
    "then": _branch,
    "else": _branch,
}
