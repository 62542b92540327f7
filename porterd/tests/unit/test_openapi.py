"""The OpenAPI description is generated from the routes: every route, every method."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import falcon
import pytest
import schemathesis
from porterd.api import app as app_module
from porterd.api.openapi import describe, placeholder_daemon

METHODS = ("get", "head", "post", "put", "patch", "delete", "options")


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> tuple[falcon.App, list[tuple[str, Any]]]:
    """porterd's whole app (every router, over placeholder services: routers only keep them)
    and each add_route call it was built with."""
    calls: list[tuple[str, Any]] = []
    original = falcon.App.add_route

    def recording(self: falcon.App, template: str, resource: Any, **kwargs: Any) -> None:
        calls.append((template, resource))
        original(self, template, resource, **kwargs)

    monkeypatch.setattr(falcon.App, "add_route", recording)
    return app_module.create_app(placeholder_daemon()), calls


def test_every_router_module_registers_routes(registered) -> None:
    _, calls = registered
    modules = {type(resource).__module__ for _, resource in calls}
    assert modules == {f"porterd.api.{name}" for name, _ in app_module.ROUTERS}


def _described(template: str) -> str:
    """A route template as OpenAPI spells it: fields without their converters."""
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", template)


def _responders(resource: Any) -> set[str]:
    return {method for method in METHODS if callable(getattr(resource, f"on_{method}", None))}


def test_every_registered_route_is_described_with_each_of_its_methods(registered) -> None:
    app, calls = registered
    paths = describe(app)["paths"]
    assert calls, "the routers registered nothing"
    for template, resource in calls:
        assert set(paths[_described(template)]) == _responders(resource), template
    assert set(paths) == {_described(template) for template, _ in calls}


def test_path_fields_are_required_path_parameters(registered) -> None:
    app, _ = registered
    operation = describe(app)["paths"]["/volumes/{name}"]["get"]
    assert {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}} in (
        operation["parameters"]
    )


def test_operation_ids_are_unique(registered) -> None:
    app, _ = registered
    ids = [
        operation["operationId"]
        for item in describe(app)["paths"].values()
        for operation in item.values()
    ]
    assert len(ids) == len(set(ids))


def test_a_resources_own_parameters_are_merged_in(registered) -> None:
    app, _ = registered
    names = {p["name"] for p in describe(app)["paths"]["/events"]["get"]["parameters"]}
    assert names == {"since", "until", "filters"}


def test_every_operation_documents_the_error_shape(registered) -> None:
    app, _ = registered
    for item in describe(app)["paths"].values():
        for operation in item.values():
            schema = operation["responses"]["default"]["content"]["application/json"]["schema"]
            assert schema["required"] == ["message"]


def test_the_description_loads_in_schemathesis_with_every_operation(registered) -> None:
    app, _ = registered
    document = describe(app)
    schema = schemathesis.openapi.from_dict(document)
    loaded = {
        (result.ok().method.lower(), result.ok().path) for result in schema.get_all_operations()
    }
    described = {(m, path) for path, item in document["paths"].items() for m in item}
    assert loaded == described


def test_field_converters_are_left_out_of_described_paths() -> None:
    class Item:
        def on_get(self, req: falcon.Request, resp: falcon.Response, number: int) -> None:
            resp.media = number

    app = falcon.App()
    app.add_route("/things/{number:int}", Item())
    assert list(describe(app)["paths"]) == ["/things/{number}"]
    assert not re.search(r"\{\w+:", str(describe(app)["paths"]))


def test_operations_take_the_engine_apis_query_parameters_and_bodies(registered) -> None:
    app, _ = registered
    paths = describe(app)["paths"]
    logs = {p["name"]: p for p in paths["/containers/{id}/logs"]["get"]["parameters"]}
    assert {"follow", "tail", "timestamps"} <= set(logs)
    assert logs["follow"]["schema"] == {"type": "boolean"}
    create = paths["/volumes/create"]["post"]["requestBody"]["content"]["application/json"]
    assert create["schema"]["properties"]["Labels"]["additionalProperties"] == {"type": "string"}


def test_a_resources_own_parameter_wins_over_the_engine_apis() -> None:
    from porterd.api.openapi import query_parameter

    class Events:
        openapi = {"get": {"parameters": [query_parameter("since", {"type": "integer"})]}}

        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            resp.media = []

    app = falcon.App()
    app.add_route("/events", Events())
    parameters = describe(app)["paths"]["/events"]["get"]["parameters"]
    assert [p["schema"] for p in parameters if p["name"] == "since"] == [{"type": "integer"}]
    assert "filters" in {p["name"] for p in parameters}  # the rest still from the Engine API


def _extract(document: dict[str, Any]) -> dict[str, Any]:
    tools = Path(__file__).resolve().parents[2] / "tools"
    sys.path.insert(0, str(tools))
    try:
        from engine_api_from_swagger import extract
    finally:
        sys.path.remove(str(tools))
    return extract(document)


def test_the_swagger_extract_inlines_references_and_cuts_cycles() -> None:
    document = {
        "definitions": {
            "Node": {
                "type": "object",
                "x-nullable": True,
                "properties": {"Name": {"type": "string"}, "Next": {"$ref": "#/definitions/Node"}},
            }
        },
        "paths": {
            "/things": {
                "post": {
                    "parameters": [
                        {"name": "force", "in": "query", "type": "boolean", "description": "x"},
                        {"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Node"}},
                    ]
                }
            }
        },
    }
    operation = _extract(document)["/things"]["post"]
    assert operation["parameters"] == [
        {"name": "force", "in": "query", "required": False, "schema": {"type": "boolean"}}
    ]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["nullable"] is True
    assert body["properties"] == {"Name": {"type": "string"}, "Next": {}}  # the cycle cut
