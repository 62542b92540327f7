"""`/v2/<name>/referrers/<digest>`: an index of the manifests whose subject is `<digest>`.

Unknown subjects (and repositories) get an empty index, never 404, as the spec requires.
"""

from __future__ import annotations

import json

import falcon
from porter_specs import media_types

from porter_registry.handlers.base import Resource
from porter_registry.names import parse_digest


class ReferrersResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, digest: str) -> None:
        subject = parse_digest(digest)
        artifact_type = req.get_param("artifactType") or None
        descriptors = self.registry.referrers(name, subject, artifact_type)
        if artifact_type is not None:
            resp.set_header("OCI-Filters-Applied", "artifactType")
        resp.content_type = media_types.IMAGE_INDEX
        resp.data = json.dumps(
            {"schemaVersion": 2, "mediaType": media_types.IMAGE_INDEX, "manifests": descriptors}
        ).encode()
