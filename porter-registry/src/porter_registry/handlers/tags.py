"""`/v2/<name>/tags/list`: the repository's tags in lexical order, paginated by `n` and `last`."""

from __future__ import annotations

import json

import falcon

from porter_registry.handlers.base import Resource, paginate


class TagsResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        tags = paginate(req, resp, self.registry.tags(name), f"/v2/{name}/tags/list")
        resp.content_type = falcon.MEDIA_JSON
        resp.data = json.dumps({"name": name, "tags": tags}).encode()
