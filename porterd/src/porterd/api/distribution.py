"""Distribution route of the Engine API (moby's api/swagger.yaml, version 1.43).

    GET /distribution/{name}/json    what the image's registry says `name` points at

Image names hold slashes (`localhost:5000/x`), so the route is one path route whose tail must
be `json`, as dockerd's `{name:.*}/json` route is. See porterd.images.distribution.
"""

from __future__ import annotations

import falcon

from porterd.api.images import registry_credentials
from porterd.errors import NotFound
from porterd.images import ImageStore
from porterd.images.distribution import distribution_inspect

_TAIL = "/json"


class DistributionInspect:
    openapi = {
        "get": {
            "description": "`{name}/json`: the descriptor and platforms of the image's manifest"
            " or index on its registry (credentials in `X-Registry-Auth`)",
        }
    }

    def __init__(self, images: ImageStore) -> None:
        self.images = images

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        if not name.endswith(_TAIL) or len(name) == len(_TAIL):
            raise NotFound("page not found")
        credentials = registry_credentials(req)
        resp.media = distribution_inspect(self.images.registry, name[: -len(_TAIL)], credentials)


def add_routes(app: falcon.App, images: ImageStore) -> None:
    app.add_route("/distribution/{name:path}", DistributionInspect(images))
