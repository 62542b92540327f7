"""The falcon application: routes, middleware slots, and the one place errors become responses."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import falcon
from porter_specs.errors import PorterError

from porter_registry.auth import AllowAll, AuthorizationMiddleware, Authorizer
from porter_registry.errors import RegistryError, from_porter_error
from porter_registry.handlers.base import BaseResource
from porter_registry.handlers.blobs import BlobResource
from porter_registry.handlers.catalog import CatalogResource
from porter_registry.handlers.manifests import ManifestResource
from porter_registry.handlers.referrers import ReferrersResource
from porter_registry.handlers.tags import TagsResource
from porter_registry.handlers.uploads import UploadResource, UploadStartResource
from porter_registry.registry import Registry
from porter_registry.routing import ROUTES, RegexRouter

log = logging.getLogger("porter_registry")

API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")

# Statuses falcon raises by itself (unknown route, method not allowed, bad request) -> the code
# the spec's error body names for them.
_FALCON_STATUS_CODES = {404: "NAME_UNKNOWN", 405: "UNSUPPORTED", 413: "SIZE_INVALID"}


class ApiVersionHeader:
    """Every response says which API it speaks (clients probe `/v2/` for it)."""

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        resp.set_header(*API_VERSION_HEADER)


def _render(resp: falcon.Response, error: RegistryError) -> None:
    resp.status = error.status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = json.dumps(error.body()).encode()
    for key, value in error.headers.items():
        resp.set_header(key, value)


def handle_registry_error(
    req: falcon.Request, resp: falcon.Response, error: PorterError, params: dict[str, Any]
) -> None:
    """Render any refusal as the spec's error document, with the code's status."""
    registry_error = from_porter_error(error)
    if registry_error.status >= 500:
        log.error("%s %s failed: %s", req.method, req.path, error, exc_info=error)
    _render(resp, registry_error)


def handle_falcon_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, params: dict[str, Any]
) -> None:
    """Falcon's own refusals (no route, wrong method, bad header) in the same JSON shape."""
    status = int(error.status_code)
    code = _FALCON_STATUS_CODES.get(status, "UNSUPPORTED")
    registry_error = RegistryError(
        code, error.description or error.title, status=status, headers=dict(error.headers or {})
    )
    _render(resp, registry_error)


def create_app(
    registry: Registry,
    authorizer: Authorizer | None = None,
    middleware: Iterable[object] = (),
) -> falcon.App:
    """Build the WSGI app. `middleware` runs before authorization (rate limits, logging)."""
    router = RegexRouter()
    # falcon's type stubs admit only its own router class.
    app = falcon.App(  # type: ignore[call-overload]
        router=router,
        middleware=[
            ApiVersionHeader(),
            *middleware,
            AuthorizationMiddleware(authorizer or AllowAll()),
        ],
    )
    app.req_options.auto_parse_qs_csv = False
    app.req_options.keep_blank_qs_values = True
    app.resp_options.secure_cookies_by_default = False
    resources = {
        "base": BaseResource(registry),
        "catalog": CatalogResource(registry),
        "tags": TagsResource(registry),
        "upload_start": UploadStartResource(registry),
        "upload": UploadResource(registry),
        "blob": BlobResource(registry),
        "manifest": ManifestResource(registry),
        "referrers": ReferrersResource(registry),
    }
    for key, (template, pattern) in ROUTES.items():
        router.add_route(template, resources[key], pattern=pattern)
    for template, resource in getattr(authorizer, "routes", ()):
        router.add_route(template, resource)  # e.g. the token endpoint of bearer auth
    app.add_error_handler(falcon.HTTPError, handle_falcon_error)
    app.add_error_handler(PorterError, handle_registry_error)
    return app
