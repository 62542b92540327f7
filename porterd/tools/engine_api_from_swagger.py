"""Extract, from moby's Engine API description (Swagger 2.0, `api/docs/v1.43.yaml`), the query
parameters and request bodies of each operation, as OpenAPI 3 fragments, into
`porterd/src/porterd/api/engine_api.json`.

porterd's OpenAPI description is generated from its routes; these fragments tell it (and the
fuzz test that reads it) what dockerd's clients send to each of them. Schemas are inlined
(no `$ref`), descriptions and examples dropped. Run it when moving to another API version:

    .venv/bin/python porterd/tools/engine_api_from_swagger.py v1.43.yaml > \\
        porterd/src/porterd/api/engine_api.json

It needs PyYAML (installed with the test extras); porterd itself reads only the JSON.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml

KEPT = (
    "type", "format", "enum", "items", "properties", "additionalProperties", "required",
    "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "pattern",
)  # fmt: skip


def schema(node: Any, definitions: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """An OpenAPI 3 schema from a Swagger 2 one: references inlined, a cycle cut to `{}`."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rpartition("/")[2]
        return {} if name in seen else schema(definitions[name], definitions, (*seen, name))
    if "allOf" in node:
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        for part in node["allOf"]:
            inlined = schema(part, definitions, seen)
            merged["properties"].update(inlined.get("properties", {}))
        return merged
    out: dict[str, Any] = {}
    for key in KEPT:
        if key not in node:
            continue
        value = node[key]
        if key == "properties":
            value = {name: schema(sub, definitions, seen) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            value = schema(value, definitions, seen)
        out[key] = value
    if node.get("x-nullable"):
        out["nullable"] = True
    return out


def operation(op: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    fragment: dict[str, Any] = {"parameters": []}
    for parameter in op.get("parameters", []):
        where = parameter["in"]
        if where == "query":
            keys = ("type", "format", "enum", "items", "minimum", "maximum")
            fragment["parameters"].append(
                {
                    "name": parameter["name"],
                    "in": "query",
                    "required": bool(parameter.get("required")),
                    "schema": schema({k: parameter[k] for k in keys if k in parameter}, {}),
                }
            )
        elif where == "body":
            body_schema = schema(parameter.get("schema", {}), definitions)
            if body_schema.get("type") in (None, "object") or "properties" in body_schema:
                fragment["requestBody"] = {
                    "required": bool(parameter.get("required")),
                    "content": {"application/json": {"schema": body_schema}},
                }
    return fragment


def extract(document: dict[str, Any]) -> dict[str, Any]:
    definitions = document["definitions"]
    return {
        path: {
            method: operation(op, definitions)
            for method, op in item.items()
            if method in ("get", "head", "post", "put", "delete")
        }
        for path, item in sorted(document["paths"].items())
    }


def main() -> None:
    with open(sys.argv[1]) as source:
        document = yaml.safe_load(source)
    json.dump(extract(document), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
