"""The falcon app porterd serves: the version prefix, negotiation, errors, and the routers.

Routers register their routes without the `/vX.Y` prefix; `ApiVersion` strips it before
routing and refuses versions outside 1.24..1.43 as dockerd does. Every error leaves through
one of the handlers here: porterd's errors as `{"message": ...}` with their status, falcon's
own (no route, bad JSON) the same way, and anything else as a 500 whose traceback goes to the
log, never to the client.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any

import falcon

from porterd import errors

log = logging.getLogger("porterd.api")

API_VERSION = "1.43"
MIN_API_VERSION = "1.24"
PORTER_VERSION = "0.1.0"
_PREFIX = re.compile(r"^/v([0-9]+(?:\.[0-9]+)*)(/.*)$")


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class ApiVersion:
    """Strips `/vX.Y`, keeps the version in `req.context.api_version`, sets dockerd's headers."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        match = _PREFIX.match(req.path)
        version = API_VERSION
        if match:
            version, req.path = match.group(1), match.group(2)
        req.context.api_version = version
        if version_tuple(version) < version_tuple(MIN_API_VERSION):
            raise errors.InvalidParameter(
                f"client version {version} is too old. Minimum supported API version is"
                f" {MIN_API_VERSION}, please upgrade your client to a newer version"
            )
        if version_tuple(version) > version_tuple(API_VERSION):
            raise errors.InvalidParameter(
                f"client version {version} is too new. Maximum supported API version is"
                f" {API_VERSION}"
            )

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        resp.set_header("Api-Version", API_VERSION)
        resp.set_header("Ostype", "linux")
        resp.set_header("Docker-Experimental", "false")
        resp.set_header("Server", f"Porter/{PORTER_VERSION} (linux)")


def _render(resp: falcon.Response, status: int, message: str) -> None:
    resp.status = status
    if status == 304:
        resp.data = b""
        return
    resp.content_type = falcon.MEDIA_JSON
    resp.data = json.dumps({"message": message}).encode() + b"\n"


def handle_daemon_error(
    req: falcon.Request, resp: falcon.Response, error: errors.DaemonError, params: Any
) -> None:
    if error.status >= 500:
        log.error("%s %s: %s", req.method, req.path, error, exc_info=error)
    _render(resp, error.status, str(error))


def handle_http_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, params: Any
) -> None:
    status = error.status_code
    message = error.description or error.title or "error"
    if status == 404 and error.description is None:
        message = "page not found"  # dockerd's answer for a route it does not have
    _render(resp, status, message)
    for name, value in (error.headers or {}).items():
        resp.set_header(name, value)


def handle_unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any):
    log.error("%s %s failed", req.method, req.path, exc_info=error)
    _render(resp, 500, f"internal error in porterd ({type(error).__name__}); see the daemon log")


def create_app(daemon: Any, routers: Iterable[str] | None = None) -> falcon.App:
    """The app over `daemon` (a `porterd.daemon.Daemon`, or anything with the same services).

    `routers` names the router modules to serve (all of them unless given; tests of one
    resource serve only theirs).
    """
    app = falcon.App(middleware=[ApiVersion()])
    app.req_options.auto_parse_qs_csv = False
    app.req_options.keep_blank_qs_values = True
    app.resp_options.secure_cookies_by_default = False
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(errors.DaemonError, handle_daemon_error)
    for router, service in _routers(daemon, routers):
        router.add_routes(app, service)
    return app


ROUTERS = (
    ("system", None),
    ("volumes", "volumes"),
    ("containers", "containers"),
    ("exec", "containers"),
    ("images", "images"),
    ("distribution", "images"),
    ("build", "builds"),
    ("networks", "networks"),
    ("swarm", "cluster"),
)


def _routers(daemon: Any, names: Iterable[str] | None) -> list[tuple[Any, Any]]:
    """The router modules named (all by default) and the service each is given."""
    import importlib

    wanted = set(names) if names is not None else {name for name, _ in ROUTERS}
    return [
        (
            importlib.import_module(f"porterd.api.{module_name}"),
            # A daemon outside a cluster has no `cluster`: its swarm routes refuse politely.
            daemon if service is None else getattr(daemon, service, None),
        )
        for module_name, service in ROUTERS
        if module_name in wanted
    ]
