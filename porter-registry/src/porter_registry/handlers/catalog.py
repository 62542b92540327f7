"""`/v2/_catalog`: every repository in lexical order, paginated by `n` and `last`."""

from __future__ import annotations

import json

import falcon

from porter_registry.actions import CATALOG
from porter_registry.handlers.base import Resource, paginate


class CatalogResource(Resource):
    def required_actions(self, method: str) -> tuple[str, ...]:
        return (CATALOG,)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        names = paginate(req, resp, self.registry.catalog(), "/v2/_catalog")
        resp.content_type = falcon.MEDIA_JSON
        resp.data = json.dumps({"repositories": names}).encode()
