"""`/v2/<name>/blobs/uploads/`: monolithic and chunked uploads, mounts, status and cancel."""

from __future__ import annotations

import re

import falcon

from porter_registry.actions import PULL, PUSH
from porter_registry.errors import RegistryError
from porter_registry.handlers.base import Resource, upload_body
from porter_registry.names import parse_digest
from porter_registry.storage.uploads import UploadStatus, range_header

_CONTENT_RANGE = re.compile(r"^(?:bytes )?(\d+)-(\d+)(?:/(?:\d+|\*))?$")


def _content_range(req: falcon.Request) -> tuple[int | None, int | None]:
    """(start, length) from a chunk's `Content-Range`, (None, None) when it has none."""
    header = req.get_header("Content-Range")
    if header is None:
        return None, None
    match = _CONTENT_RANGE.match(header.strip())
    if not match or int(match.group(2)) < int(match.group(1)):
        raise RegistryError("BLOB_UPLOAD_INVALID", f"bad Content-Range {header!r}", status=416)
    start, end = int(match.group(1)), int(match.group(2))
    return start, end - start + 1


def _session_headers(resp: falcon.Response, status: UploadStatus) -> None:
    resp.set_header("Location", f"/v2/{status.name}/blobs/uploads/{status.upload_id}")
    resp.set_header("Range", range_header(status.offset))
    resp.set_header("Docker-Upload-UUID", status.upload_id)
    resp.content_length = 0


def _blob_created(resp: falcon.Response, name: str, digest: str) -> None:
    resp.status = falcon.HTTP_201
    resp.set_header("Location", f"/v2/{name}/blobs/{digest}")
    resp.set_header("Docker-Content-Digest", digest)
    resp.content_length = 0


def _may_pull(req: falcon.Request, source: str) -> bool:
    """Whether the client may read the mount's `from`: when not, the mount is skipped and the
    client uploads as usual (CNCF distribution's answer), rather than a 401/403 that would fail
    a push the client is allowed to make."""
    try:
        req.context.authorizer.authorize(req, source, (PULL,))
    except RegistryError as exc:
        if exc.error_code.code in ("UNAUTHORIZED", "DENIED"):
            return False
        raise
    return True


class _UploadActions:
    """Every upload request, cancel included, is part of a push."""

    def required_actions(self, method: str) -> tuple[str, ...]:
        return (PULL, PUSH)


class UploadStartResource(_UploadActions, Resource):
    """POST: `?digest=` uploads in one request, `?mount=` links a known blob, else a session."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        mount = req.get_param("mount")
        if mount:
            digest = parse_digest(mount)
            source = req.get_param("from")
            if (not source or _may_pull(req, source)) and self.registry.mount_blob(
                name, digest, source or None
            ):
                _blob_created(resp, name, str(digest))
                return
        expected = req.get_param("digest")
        if expected is not None:
            digest = parse_digest(expected)
            status = self.registry.start_upload(name)
            try:
                self.registry.finish_upload(
                    name, status.upload_id, digest, upload_body(req), length=req.content_length
                )
            except BaseException:
                self.registry.uploads.remove(name, status.upload_id)
                raise
            _blob_created(resp, name, str(digest))
            return
        status = self.registry.start_upload(name)
        resp.status = falcon.HTTP_202
        _session_headers(resp, status)


class UploadResource(_UploadActions, Resource):
    """One session: PATCH a chunk, PUT the last one and close, GET status, DELETE cancel."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, upload_id: str) -> None:
        status = self.registry.upload_status(name, upload_id)
        resp.status = falcon.HTTP_204
        _session_headers(resp, status)

    def on_patch(
        self, req: falcon.Request, resp: falcon.Response, name: str, upload_id: str
    ) -> None:
        start, length = _content_range(req)
        if length is not None and req.content_length is not None and length != req.content_length:
            raise RegistryError(
                "BLOB_UPLOAD_INVALID",
                f"Content-Range covers {length} bytes, Content-Length says {req.content_length}",
                status=416,
            )
        status = self.registry.append_upload(name, upload_id, upload_body(req), start, length)
        resp.status = falcon.HTTP_202
        _session_headers(resp, status)

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str, upload_id: str) -> None:
        expected = req.get_param("digest")
        if not expected:
            raise RegistryError("DIGEST_INVALID", "the digest query parameter is required")
        digest = parse_digest(expected)
        start, length = _content_range(req)
        self.registry.finish_upload(name, upload_id, digest, upload_body(req), start, length)
        _blob_created(resp, name, str(digest))

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, name: str, upload_id: str
    ) -> None:
        self.registry.cancel_upload(name, upload_id)
        resp.status = falcon.HTTP_204
        resp.content_length = 0
