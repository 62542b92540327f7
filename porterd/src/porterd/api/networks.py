"""Network routes: `/networks`, `/networks/create`, `/networks/prune`, `/networks/{id}` and
`/networks/{id}/connect|disconnect`, as moby's api/swagger.yaml describes them."""

from __future__ import annotations

from typing import Any

import falcon

from porterd.api import body, query
from porterd.api.openapi import FILTERS, json_body, query_parameter
from porterd.clock import filter_until
from porterd.errors import InvalidParameter, NotFound
from porterd.labels import has_label
from porterd.network import NetworkService
from porterd.network.definitions import PSEUDO_NETWORKS
from porterd.network.views import all_networks, network_json

LIST_FILTERS = ("dangling", "driver", "id", "label", "name", "scope", "type")
PRUNE_FILTERS = ("label", "until")
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
CREATE_BODY = {
    "type": "object",
    "required": ["Name"],
    "properties": {
        "Name": {"type": "string"},
        "CheckDuplicate": {"type": "boolean"},
        "Driver": {"type": "string"},
        "Internal": {"type": "boolean"},
        "Attachable": {"type": "boolean"},
        "Ingress": {"type": "boolean"},
        "EnableIPv6": {"type": "boolean"},
        "IPAM": {
            "type": "object",
            "properties": {
                "Driver": {"type": "string"},
                "Config": {"type": "array", "items": _STRINGS},
                "Options": _STRINGS,
            },
        },
        "Options": _STRINGS,
        "Labels": _STRINGS,
    },
}
CONNECT_BODY = {
    "type": "object",
    "properties": {"Container": {"type": "string"}, "EndpointConfig": {"type": "object"}},
}
DISCONNECT_BODY = {
    "type": "object",
    "properties": {"Container": {"type": "string"}, "Force": {"type": "boolean"}},
}


def _flag(document: dict[str, Any], key: str) -> bool:
    value = document.get(key, False)
    if not isinstance(value, bool):
        raise InvalidParameter(f"invalid JSON: {key} must be a boolean")
    return value


def _ipam_configs(document: dict[str, Any]) -> list[dict[str, str]]:
    ipam = document.get("IPAM") or {}
    if not isinstance(ipam, dict):
        raise InvalidParameter("invalid JSON: IPAM must be an object")
    if (ipam.get("Driver") or "default") != "default":
        raise NotFound(f"plugin {ipam['Driver']!r} not found")
    configs = ipam.get("Config") or []
    if not isinstance(configs, list) or not all(
        isinstance(c, dict) and all(isinstance(v, str) for v in c.values() if v is not None)
        for c in configs
    ):
        raise InvalidParameter("invalid JSON: IPAM.Config must be a list of objects of strings")
    return [{k: v for k, v in c.items() if v} for c in configs]


def _matches(network: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    builtin = network["Name"] in (*PSEUDO_NETWORKS, "bridge")
    checks = {
        "driver": lambda v: network["Driver"] == v,
        "id": lambda v: network["Id"].startswith(v),
        "name": lambda v: v in network["Name"],
        "scope": lambda v: v == network["Scope"],
        "type": lambda v: (v == "builtin") == builtin,
        "dangling": lambda v: (v in ("1", "true")) == (not builtin and not network["Containers"]),
        "label": lambda v: has_label(network["Labels"], v),
    }
    for key, values in filters.items():
        if key == "type" and any(v not in ("custom", "builtin") for v in values):
            raise InvalidParameter(f"invalid filter: 'type'='{values}'")
        if values and not any(checks[key](value) for value in values):
            return False
    return True


class _Resource:
    def __init__(self, networks: NetworkService) -> None:
        self.networks = networks


class NetworkList(_Resource):
    openapi = {"get": {"parameters": [FILTERS]}}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        filters = query.filters(req, LIST_FILTERS)
        resp.media = [n for n in all_networks(self.networks) if _matches(n, filters)]


class NetworkCreate(_Resource):
    openapi = {
        "post": {
            "requestBody": json_body(CREATE_BODY, required=True),
            "responses": {"201": {"description": "created"}},
        }
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        document = body.json_object(req, required=True)
        driver = body.string(document, "Driver", "bridge") or "bridge"
        if driver not in ("bridge", "overlay"):
            raise NotFound(f"plugin {driver!r} not found")
        create = self.networks.create_overlay if driver == "overlay" else self.networks.create
        network = create(
            body.string(document, "Name"),
            internal=_flag(document, "Internal"),
            attachable=_flag(document, "Attachable"),
            enable_ipv6=_flag(document, "EnableIPv6"),
            ipam=_ipam_configs(document),
            labels=body.string_map(document, "Labels"),
            options=body.string_map(document, "Options"),
        )
        resp.status = falcon.HTTP_201
        resp.media = {"Id": network.id, "Warning": ""}


class NetworkItem(_Resource):
    openapi = {
        "get": {"parameters": [query_parameter("verbose", {"type": "string"})]},
        "delete": {"responses": {"204": {"description": "removed"}}},
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        network = self.networks.find(network_id)
        if network is not None:
            resp.media = network_json(network, self.networks.endpoints_on(network.id))
            return
        for document in all_networks(self.networks):  # `host` and `none` have no record
            if network_id in (document["Id"], document["Name"]):
                resp.media = document
                return
        raise NotFound(f"network {network_id} not found")

    def on_delete(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        if network_id in PSEUDO_NETWORKS:
            raise falcon.HTTPForbidden(
                description=f"{network_id} is a pre-defined network and cannot be removed"
            )
        self.networks.remove(network_id)
        resp.status = falcon.HTTP_204


class NetworkPrune(_Resource):
    openapi = {"post": {"parameters": [FILTERS]}}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        filters = query.filters(req, PRUNE_FILTERS)
        until = None
        if filters.get("until"):
            until = int(filter_until(filters["until"][0]) * 1_000_000_000)
        removed = self.networks.prune(labels=filters.get("label", []), until=until)
        resp.media = {"NetworksDeleted": removed}


class NetworkConnect(_Resource):
    openapi = {"post": {"requestBody": json_body(CONNECT_BODY, required=True)}}

    def on_post(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        document = body.json_object(req, required=True)
        settings = document.get("EndpointConfig") or {}
        if not isinstance(settings, dict):
            raise InvalidParameter("invalid JSON: EndpointConfig must be an object")
        self.networks.connect_container(network_id, body.string(document, "Container"), settings)
        resp.status = falcon.HTTP_200


class NetworkDisconnect(_Resource):
    openapi = {"post": {"requestBody": json_body(DISCONNECT_BODY, required=True)}}

    def on_post(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        document = body.json_object(req, required=True)
        self.networks.disconnect_container(
            network_id, body.string(document, "Container"), force=_flag(document, "Force")
        )
        resp.status = falcon.HTTP_200


def add_routes(app: falcon.App, networks: NetworkService) -> None:
    app.add_route("/networks", NetworkList(networks))
    app.add_route("/networks/create", NetworkCreate(networks))
    app.add_route("/networks/prune", NetworkPrune(networks))
    app.add_route("/networks/{network_id}", NetworkItem(networks))
    app.add_route("/networks/{network_id}/connect", NetworkConnect(networks))
    app.add_route("/networks/{network_id}/disconnect", NetworkDisconnect(networks))
