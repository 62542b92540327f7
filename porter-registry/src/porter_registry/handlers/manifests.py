"""`/v2/<name>/manifests/<reference>`: GET, HEAD, PUT, DELETE by tag or by digest."""

from __future__ import annotations

import falcon

from porter_registry.errors import RegistryError
from porter_registry.handlers.base import Resource
from porter_registry.manifest_document import MANIFEST_TYPES
from porter_registry.storage.manifests import StoredManifest


def _acceptable(req: falcon.Request, media_type: str) -> bool:
    """False only when the client listed manifest types it accepts and ours is not among them."""
    accepted = {
        part.split(";")[0].strip()
        for header in req.get_header("Accept", default="").split(",")
        for part in [header]
        if part.strip()
    }
    if not accepted or "*/*" in accepted or media_type in accepted:
        return True
    return not (accepted & MANIFEST_TYPES)


def _describe(resp: falcon.Response, manifest: StoredManifest) -> None:
    resp.content_type = manifest.media_type
    resp.set_header("Docker-Content-Digest", str(manifest.digest))
    resp.set_header("ETag", f'"{manifest.digest}"')


class ManifestResource(Resource):
    def _find(self, req: falcon.Request, name: str, reference: str) -> StoredManifest:
        manifest = self.registry.get_manifest(name, reference)
        if not _acceptable(req, manifest.media_type):
            raise RegistryError(
                "MANIFEST_UNKNOWN",
                f"{reference} is a {manifest.media_type}, which the Accept header excludes",
            )
        return manifest

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, reference: str) -> None:
        manifest = self._find(req, name, reference)
        _describe(resp, manifest)
        resp.data = manifest.content

    def on_head(
        self, req: falcon.Request, resp: falcon.Response, name: str, reference: str
    ) -> None:
        manifest = self._find(req, name, reference)
        _describe(resp, manifest)
        resp.content_length = len(manifest.content)

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str, reference: str) -> None:
        limit = self.registry.policy.max_manifest_bytes
        if req.content_length is not None and req.content_length > limit:
            raise RegistryError(
                "MANIFEST_INVALID",
                f"manifest is {req.content_length} bytes; the limit is {limit}",
                status=413,
            )
        content = req.bounded_stream.read(limit + 1)
        result = self.registry.put_manifest(name, reference, content, req.content_type)
        resp.status = falcon.HTTP_201
        resp.set_header("Location", f"/v2/{name}/manifests/{result.digest}")
        resp.set_header("Docker-Content-Digest", str(result.digest))
        if result.subject is not None:
            resp.set_header("OCI-Subject", str(result.subject))
        resp.content_length = 0

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, name: str, reference: str
    ) -> None:
        self.registry.delete_manifest(name, reference)
        resp.status = falcon.HTTP_202
        resp.content_length = 0
