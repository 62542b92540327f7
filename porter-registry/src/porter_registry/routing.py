"""A regex router: repository names contain slashes, which falcon's URI templates cannot match.

Patterns are tried in order; named groups become the responder's keyword arguments. Plain
falcon-style templates (`/token`, `/a/{b}`) are accepted too, so later routes (an auth token
endpoint) can be added with `app.add_route` as usual.
"""

from __future__ import annotations

import re
from typing import Any

from falcon.routing import map_http_methods, set_default_responders

NAME = r"(?P<name>[^?#]+?)"
DIGEST = r"(?P<digest>[^/]+)"


class RegexRouter:
    """Find the first route whose pattern matches the whole path."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], object, dict[str, Any], str]] = []

    def add_route(self, uri_template: str, resource: object, **kwargs: Any) -> None:
        pattern = kwargs.pop("pattern", None) or _template_to_pattern(uri_template)
        method_map = map_http_methods(resource, suffix=kwargs.get("suffix"))
        set_default_responders(method_map)
        self._routes.append((re.compile(pattern), resource, method_map, uri_template))

    def find(self, uri: str, req: object = None) -> tuple[object, dict, dict, str] | None:
        for pattern, resource, method_map, template in self._routes:
            match = pattern.fullmatch(uri)
            if match:
                return resource, method_map, match.groupdict(), template
        return None


def _template_to_pattern(template: str) -> str:
    parts = re.split(r"(\{\w+\})", template)
    return "".join(
        f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") and p.endswith("}") else re.escape(p)
        for p in parts
    )


# (template shown in logs, pattern) for every distribution-spec route, most specific first.
ROUTES = {
    "base": ("/v2/", r"/v2/?"),
    "catalog": ("/v2/_catalog", r"/v2/_catalog"),
    "tags": ("/v2/{name}/tags/list", rf"/v2/{NAME}/tags/list"),
    "upload_start": ("/v2/{name}/blobs/uploads/", rf"/v2/{NAME}/blobs/uploads/?"),
    "upload": (
        "/v2/{name}/blobs/uploads/{upload_id}",
        rf"/v2/{NAME}/blobs/uploads/(?P<upload_id>[^/]+)",
    ),
    "blob": ("/v2/{name}/blobs/{digest}", rf"/v2/{NAME}/blobs/{DIGEST}"),
    "manifest": (
        "/v2/{name}/manifests/{reference}",
        rf"/v2/{NAME}/manifests/(?P<reference>[^/]+)",
    ),
    "referrers": ("/v2/{name}/referrers/{digest}", rf"/v2/{NAME}/referrers/{DIGEST}"),
}
