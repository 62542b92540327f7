"""Build routes of the Engine API (moby's api/swagger.yaml, version 1.43), legacy builder.

    POST /build          the body is the context as a tar (plain, gzip, bzip2, xz or zstd);
                         the answer is the JSON message stream: `{"stream": ...}` per step,
                         `{"aux": {"ID": ...}}`, dockerd's `Successfully built/tagged` lines,
                         or `{"error": ..., "errorDetail": {...}}` as the last message
    POST /build/prune    drop the build cache

The context is unpacked to disk as it arrives (constant memory), before the stream starts, so
a bad tar or Dockerfile is an HTTP 400 with `{"message": ...}` when nothing was sent yet.
`rm` and `forcerm` are accepted and change nothing: a step's container never outlives it.
`cachefrom` names registry artifacts of porter-image's build cache (one that cannot be read
is a warning in the stream), not images to compare steps against as dockerd's are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import falcon
from porter_image.distribution.auth import Credentials
from porter_image.errors import ImageRefError
from porter_image.login import registry_host
from porter_specs.models import Platform

from porterd.api import query
from porterd.api.images import auth_credentials, auth_document, json_stream, request_body
from porterd.api.openapi import BOOLEAN, query_parameter
from porterd.building import BuildRequest, BuildService, build_names, network_mode
from porterd.errors import InvalidParameter
from porterd.images.registry import Emit

_STRING = {"type": "string"}
_PARAMETERS = [
    *(
        query_parameter(name, _STRING)
        for name in (
            "t",
            "dockerfile",
            "buildargs",
            "target",
            "labels",
            "networkmode",
            "platform",
            "cachefrom",
        )
    ),
    *(query_parameter(name, BOOLEAN) for name in ("nocache", "pull", "q", "rm", "forcerm")),
]


def json_map(req: falcon.Request, name: str) -> dict[str, str]:
    """A query parameter holding a JSON object of strings (`buildargs`, `labels`); a null
    value of `buildargs` means "take it from the environment", which a daemon has not: left out."""
    raw = req.get_param(name) or ""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidParameter(f"invalid value for {name}: not JSON") from None
    if not isinstance(value, dict) or not all(isinstance(v, str | None) for v in value.values()):
        raise InvalidParameter(f"invalid value for {name}: expected an object of strings")
    return {key: item for key, item in value.items() if item is not None}


def json_list(req: falcon.Request, name: str) -> tuple[str, ...]:
    raw = req.get_param(name) or ""
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidParameter(f"invalid value for {name}: not JSON") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidParameter(f"invalid value for {name}: expected a list of strings")
    return tuple(value)


def platform(req: falcon.Request) -> Platform | None:
    value = req.get_param("platform") or ""
    if not value:
        return None
    try:
        return Platform.parse(value)
    except ValueError as exc:
        raise InvalidParameter(f"invalid platform {value!r}: {exc}") from exc


def registry_config(req: falcon.Request) -> dict[str, Credentials]:
    """`X-Registry-Config`: base64url JSON of `{registry: auth config}` (what docker's CLI
    sends a build), the credentials for pulling FROM images, by registry domain."""
    header = req.get_header("X-Registry-Config")
    if not header:
        return {}
    configs = {}
    for registry, entry in auth_document(header, "X-Registry-Config").items():
        if not isinstance(entry, dict):
            raise InvalidParameter("invalid X-Registry-Config header: each entry is an object")
        credentials = auth_credentials(entry, "X-Registry-Config")
        try:
            host = registry_host(registry)
        except ImageRefError:
            continue  # not a registry name: no pull can use it
        if credentials is not None:
            configs[host] = credentials
    return configs


def build_request(req: falcon.Request) -> BuildRequest:
    """The query of `POST /build`, checked before the body is read."""
    return BuildRequest(
        names=build_names(req.get_param_as_list("t") or []),
        dockerfile=req.get_param("dockerfile") or "Dockerfile",
        build_args=json_map(req, "buildargs"),
        target=req.get_param("target") or "",
        no_cache=query.flag(req, "nocache"),
        pull=query.flag(req, "pull"),
        labels=json_map(req, "labels"),
        quiet=query.flag(req, "q"),
        network=network_mode(req.get_param("networkmode") or ""),
        platform=platform(req),
        cache_from=json_list(req, "cachefrom"),
        credentials=registry_config(req),
    )


class Build:
    openapi = {
        "post": {
            "parameters": _PARAMETERS,
            "responses": {"200": {"description": "JSON messages, one a line"}},
        }
    }

    def __init__(self, builds: BuildService) -> None:
        self.builds = builds

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        request = build_request(req)
        root = self.builds.unpack(request_body(req))
        gone = req.env.get("porterd.disconnected", lambda: False)

        def work(emit: Emit) -> None:
            try:
                self._build(root, request, emit, gone)
            finally:
                self.builds.discard(root)

        resp.content_type = "application/json"
        resp.stream = json_stream(work)

    def _build(
        self, root: Path, request: BuildRequest, emit: Emit, gone: Callable[[], bool]
    ) -> None:
        stored = self.builds.build(root, request, emit, gone)
        emit({"aux": {"ID": stored.id}})
        if request.quiet:
            emit({"stream": f"{stored.id}\n"})
            return
        emit({"stream": f"Successfully built {stored.id.removeprefix('sha256:')[:12]}\n"})
        for name in request.names:
            emit({"stream": f"Successfully tagged {_familiar(name)}\n"})


def _familiar(name: str) -> str:
    from porter_image.reference import parse_docker_reference

    return parse_docker_reference(name).familiar()


class BuildPrune:
    openapi = {
        "post": {
            "parameters": [query_parameter("all", BOOLEAN), query_parameter("filters", _STRING)]
        }
    }

    def __init__(self, builds: BuildService) -> None:
        self.builds = builds

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.builds.prune()


def add_routes(app: falcon.App, builds: BuildService) -> None:
    app.add_route("/build", Build(builds))
    app.add_route("/build/prune", BuildPrune(builds))
