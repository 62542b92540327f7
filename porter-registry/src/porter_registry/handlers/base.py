"""`/v2/`, and what every handler shares: request bodies as chunks, pagination, Link headers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

import falcon

from porter_registry.errors import RegistryError
from porter_registry.registry import Registry
from porter_registry.spool import spooled_body

BODY_CHUNK = 1 << 20


class Resource:
    """A handler over one registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry


class BaseResource(Resource):
    """`GET /v2/`: the API version check (200 when the client may use the registry)."""

    def required_actions(self, method: str) -> tuple[str, ...]:
        return ()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = b"{}"

    on_head = on_get


def body_chunks(req: falcon.Request) -> Iterator[bytes]:
    """The request body in bounded chunks, never all in memory."""
    stream = req.bounded_stream
    while chunk := stream.read(BODY_CHUNK):
        yield chunk


def upload_body(req: falcon.Request) -> Iterable[bytes]:
    """An upload's body: waitress's spool file itself when the body was large enough to be
    spooled (the upload store may link it instead of copying), else `body_chunks`."""
    return spooled_body(req.env.get("wsgi.input")) or body_chunks(req)


def page_size(req: falcon.Request) -> int | None:
    """The `n` query parameter: None when absent; refused when not a non-negative integer."""
    raw = req.get_param("n")
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise RegistryError("PAGINATION_NUMBER_INVALID", {"n": raw})
    return int(raw)


def paginate(req: falcon.Request, resp: falcon.Response, items: list[str], path: str) -> list[str]:
    """Apply `n` and `last` to a sorted list, setting a `Link: <...>; rel="next"` when more."""
    last = req.get_param("last")
    if last:
        items = [item for item in items if item > last]
    n = page_size(req)
    if n is None or len(items) <= n:
        return items
    page = items[:n]
    if page:
        query = urlencode({"n": n, "last": page[-1]})
        resp.set_header("Link", f'<{path}?{query}>; rel="next"')
    return page
