"""`/v2/<name>/blobs/<digest>`: GET (whole or one byte range), HEAD, DELETE."""

from __future__ import annotations

import re
from typing import BinaryIO

import falcon

from porter_registry.errors import RegistryError
from porter_registry.handlers.base import Resource
from porter_registry.names import parse_digest

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
OCTET_STREAM = "application/octet-stream"


def _byte_range(header: str, size: int) -> tuple[int, int]:
    """(first, last) of a single `bytes=` range, refusing what cannot be served with 416."""
    match = _RANGE.match(header.strip())
    first_text, last_text = match.groups() if match else ("", "")
    if not match or (not first_text and not last_text):
        raise RegistryError("RANGE_INVALID", header, headers={"Content-Range": f"bytes */{size}"})
    if not first_text:  # suffix range: the last N bytes
        first, last = max(size - int(last_text), 0), size - 1
    else:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
    if first > last or first >= size:
        raise RegistryError("RANGE_INVALID", header, headers={"Content-Range": f"bytes */{size}"})
    return first, last


class BlobResource(Resource):
    def _head(
        self, resp: falcon.Response, name: str, digest: str, fetch: bool = True
    ) -> tuple[int, str]:
        parsed = parse_digest(digest)
        if fetch:
            size = self.registry.blob_size(name, parsed)
        else:
            size = self.registry.head_blob(name, parsed)
        resp.set_header("Docker-Content-Digest", str(parsed))
        resp.set_header("Accept-Ranges", "bytes")
        resp.set_header("ETag", f'"{parsed}"')
        resp.content_type = OCTET_STREAM
        return size, str(parsed)

    def on_head(self, req: falcon.Request, resp: falcon.Response, name: str, digest: str) -> None:
        size, _ = self._head(resp, name, digest, fetch=False)
        resp.content_length = size

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, digest: str) -> None:
        size, _ = self._head(resp, name, digest)
        first, last = 0, size - 1
        requested = req.get_header("Range")
        if requested:
            first, last = _byte_range(requested, size)
            resp.status = falcon.HTTP_206
            resp.set_header("Content-Range", f"bytes {first}-{last}/{size}")
        resp.content_length = last - first + 1
        if size:
            file = self.registry.open_blob(name, parse_digest(digest), first)
            # A whole blob goes out as the file itself (waitress's file_wrapper reads it in
            # large blocks); a range is bounded so no server can send past its end.
            resp.stream = file if requested is None else _Bounded(file, last - first + 1)  # type: ignore[assignment]

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str, digest: str) -> None:
        self.registry.delete_blob(name, parse_digest(digest))
        resp.status = falcon.HTTP_202
        resp.content_length = 0


class _Bounded:
    """A reader that stops after `remaining` bytes, closing the file under it."""

    def __init__(self, file: BinaryIO, remaining: int) -> None:
        self._file = file
        self._remaining = remaining

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        size = self._remaining if size < 0 else min(size, self._remaining)
        chunk = self._file.read(size)
        self._remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        self._file.close()
