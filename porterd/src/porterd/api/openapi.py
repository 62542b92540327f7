"""The OpenAPI description of what porterd serves, generated from the app's routes.

Every route the routers registered appears with every method it has a responder for, and
its path fields as parameters. What clients send to it (query parameters, a JSON body) comes
from the Engine API's own description of the same path and method (`engine_api.json`,
extracted from moby's v1.43 swagger by porterd/tools/engine_api_from_swagger.py). A resource
may say more, or something else, through a class attribute `openapi = {"get": {...}}`, which
wins over the Engine API's fragment; `query_parameter` and `json_body` build those.
`porterd --print-openapi` prints the description; the fuzz test feeds it to schemathesis.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

import falcon
import falcon.inspect

from porterd.api.app import API_VERSION

_FIELD = re.compile(r"\{(\w+)(?::[^}]*)?\}")
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}


def query_parameter(
    name: str, schema: dict[str, Any], description: str = "", *, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def json_body(schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


BOOLEAN = {"type": "string", "enum": ["0", "1", "true", "false"]}
FILTERS = query_parameter("filters", {"type": "string"}, "JSON object of filter lists")


def _operation(route: falcon.inspect.RouteInfo, method: falcon.inspect.MethodInfo, resource):
    fields = _FIELD.findall(route.path)
    operation: dict[str, Any] = {
        # Router modules may reuse class names (`Create`): the module makes the id unique.
        "operationId": ".".join(
            (type(resource).__module__.rpartition(".")[2], route.class_name, method.function_name)
        ),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in fields
        ],
        "responses": {
            "default": {
                "description": "an error, rendered as dockerd renders it",
                "content": {"application/json": {"schema": ERROR_SCHEMA}},
            },
        },
    }
    verb = method.method.lower()
    extra = dict(_engine_api().get(_shape(route.path), {}).get(verb, {}))
    own = dict(getattr(resource, "openapi", {}).get(verb, {}))
    named = {parameter["name"] for parameter in own.get("parameters", [])}
    inherited = [p for p in extra.get("parameters", []) if p["name"] not in named]
    extra.update(own)
    extra["parameters"] = [*inherited, *own.get("parameters", [])]
    operation["parameters"] += extra.pop("parameters")
    operation["responses"].update(extra.pop("responses", {}) or {"200": {"description": "ok"}})
    operation.update(extra)
    return operation


def _shape(template: str) -> str:
    """A path with its fields unnamed, so `/images/{name:path}` meets `/images/{name}`."""
    return _FIELD.sub("{}", template)


@functools.cache
def _engine_api() -> dict[str, Any]:
    """The Engine API's operations by path shape: their query parameters and JSON bodies."""
    text = resources.files("porterd.api").joinpath("engine_api.json").read_text()
    return {_shape(path): item for path, item in json.loads(text).items()}


def describe(app: falcon.App) -> dict[str, Any]:
    """The OpenAPI 3.0 document of every route of `app` (paths without the version prefix)."""
    resources = _resources(app)
    paths: dict[str, dict[str, Any]] = {}
    for route in falcon.inspect.inspect_routes(app):
        resource = resources.get(route.path)
        template = _FIELD.sub(lambda match: "{" + match.group(1) + "}", route.path)
        for method in route.methods:
            if method.internal:
                continue
            item = paths.setdefault(template, {})
            item[method.method.lower()] = _operation(route, method, resource)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "porterd: the Docker Engine API as Porter serves it",
            "version": API_VERSION,
            "description": f"Every path is also served under /v1.24 .. /v{API_VERSION}.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
    }


def _resources(app: falcon.App) -> dict[str, Any]:
    """Route template -> the resource object registered on it."""
    found: dict[str, Any] = {}

    def walk(nodes: list[Any]) -> None:
        for node in nodes:
            if node.resource is not None:
                found[node.uri_template] = node.resource
            walk(node.children)

    walk(app._router._roots)  # falcon.inspect reads the same tree
    return found


def placeholder_daemon() -> Any:
    """A stand-in for the Daemon with every service a router takes (routers only keep them,
    so describing the routes needs no running daemon)."""
    from types import SimpleNamespace

    from porterd.api.app import ROUTERS
    from porterd.events import EventBus

    placeholder = object()
    services = {service: placeholder for _, service in ROUTERS if service is not None}
    return SimpleNamespace(events=EventBus(), **services)


def describe_daemon_api() -> dict[str, Any]:
    """The description of porterd's full API, built without starting a daemon."""
    from porterd.api.app import create_app

    return describe(create_app(placeholder_daemon()))
