"""A small registry that lies, for the tests of porter-image's client (falcon, in-process).

It serves one image (a config and a layer) under `lies/app:v1` and can be told, per test, to
misbehave in one way (`Lie`): wrong bytes for a digest, a Content-Length that lies, a stream
cut short, a HEAD that says yes and a GET that says 404, a redirect loop, a manifest over 4 MiB,
a manifest that is not JSON, an unknown media type, a digest that differs from the one asked
for, a token endpoint answering garbage, failures (5xx, 429) before answering well. Every
request is recorded in `requests` (method, path).
"""

from __future__ import annotations

import enum
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import falcon
import waitress
from porter_specs import media_types
from waitress import wasyncore

REPOSITORY = "lies/app"


class Lie(enum.Enum):
    NONE = "none"
    BLOB_BYTES = "blob bytes do not match the digest"
    CONTENT_LENGTH = "Content-Length larger than the body"
    CUT_STREAM = "the blob stream stops half-way"
    HEAD_YES_GET_404 = "HEAD finds the blob, GET does not"
    REDIRECT_LOOP = "the blob redirects to itself"
    HUGE_MANIFEST = "a manifest over 4 MiB"
    NOT_JSON = "a manifest that is not JSON"
    UNKNOWN_TYPE = "a manifest of an unknown media type"
    SCHEMA1 = "a Docker schema 1 manifest"
    OTHER_DIGEST = "a Docker-Content-Digest other than the bytes'"
    GARBAGE_TOKEN = "a token endpoint answering garbage"
    FAIL_TWICE = "503 twice, then the right answer"
    RATE_LIMITED = "429 with Retry-After: 2 once, then the right answer"
    REFUSE_CREDENTIALS = "401 to every request, whatever the credentials"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class LyingRegistry:
    lie: Lie = Lie.NONE
    layer: bytes = b"layer bytes " * 5000
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    _failures: int = 0

    def __post_init__(self) -> None:
        self.config = json.dumps(
            {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
        ).encode()
        self.manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": media_types.IMAGE_MANIFEST,
                "config": {
                    "mediaType": media_types.IMAGE_CONFIG,
                    "digest": _digest(self.config),
                    "size": len(self.config),
                },
                "layers": [
                    {
                        "mediaType": media_types.LAYER_TAR_GZIP,
                        "digest": _digest(self.layer),
                        "size": len(self.layer),
                    }
                ],
            }
        ).encode()

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    # -- the app ---------------------------------------------------------------------------

    def app(self) -> falcon.App:
        app = falcon.App()
        app.add_sink(self.handle, "/")
        return app

    def handle(self, req: falcon.Request, resp: falcon.Response, **_: Any) -> None:
        self.requests.append((req.method, req.path))
        failures = {Lie.FAIL_TWICE: 2, Lie.RATE_LIMITED: 1}.get(self.lie, 0)
        if self._failures < failures:
            self._failures += 1
            resp.status = 503 if self.lie is Lie.FAIL_TWICE else 429
            resp.set_header("Retry-After", "2")
            return
        if self.lie is Lie.REFUSE_CREDENTIALS:
            resp.status = 401
            resp.set_header("WWW-Authenticate", 'Basic realm="lies"')
            return
        if req.path == "/token":
            resp.text = "<html>garbage</html>"
            return
        if req.path == "/v2/":
            if self.lie is Lie.GARBAGE_TOKEN and not req.get_header("Authorization"):
                resp.status = 401
                realm = f"{self.url}/token"
                resp.set_header("WWW-Authenticate", f'Bearer realm="{realm}",service="lies"')
            return
        if self.lie is Lie.GARBAGE_TOKEN and not req.get_header("Authorization"):
            resp.status = 401
            resp.set_header("WWW-Authenticate", f'Bearer realm="{self.url}/token",service="lies"')
            return
        prefix = f"/v2/{REPOSITORY}/"
        if not req.path.startswith(prefix):
            resp.status = 404
            return
        kind, _, reference = req.path[len(prefix) :].partition("/")
        if kind == "manifests":
            self._manifest(req, resp, reference)
        elif kind == "blobs":
            self._blob(req, resp, reference)
        else:
            resp.status = 404

    def _manifest(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        data, media_type = self.manifest, media_types.IMAGE_MANIFEST
        if reference not in ("v1", _digest(self.manifest)):
            resp.status = 404
            return
        if self.lie is Lie.HUGE_MANIFEST:
            document = json.loads(data)
            document["annotations"] = {"padding": "x" * (5 << 20)}
            data = json.dumps(document).encode()
        elif self.lie is Lie.NOT_JSON:
            data = b"<html>not json</html>"
        elif self.lie is Lie.UNKNOWN_TYPE:
            media_type = "application/vnd.example.thing+json"
            data = json.dumps({**json.loads(data), "mediaType": media_type}).encode()
        elif self.lie is Lie.SCHEMA1:
            media_type = "application/vnd.docker.distribution.manifest.v1+prettyjws"
            data = json.dumps({"schemaVersion": 1, "name": REPOSITORY, "fsLayers": []}).encode()
        digest = _digest(data)
        if self.lie is Lie.OTHER_DIGEST:
            digest = _digest(b"something else")
        resp.content_type = media_type
        resp.set_header("Docker-Content-Digest", digest)
        if req.method == "HEAD":
            resp.content_length = len(data)
            return
        resp.data = data

    def _blob(self, req: falcon.Request, resp: falcon.Response, digest: str) -> None:
        blobs = {_digest(self.config): self.config, _digest(self.layer): self.layer}
        data = blobs.get(digest)
        if data is None:
            resp.status = 404
            return
        resp.content_type = "application/octet-stream"
        is_layer = data is self.layer
        if req.method == "HEAD":
            resp.content_length = len(data)
            return
        if is_layer and self.lie is Lie.HEAD_YES_GET_404:
            resp.status = 404
        elif is_layer and self.lie is Lie.REDIRECT_LOOP:
            resp.status = 307
            resp.set_header("Location", req.path)
        elif is_layer and self.lie is Lie.BLOB_BYTES:
            resp.data = b"X" + data[1:]
        elif is_layer and self.lie is Lie.CONTENT_LENGTH:
            resp.content_length = len(data) + 100
            resp.stream = iter([data])
        elif is_layer and self.lie is Lie.CUT_STREAM:
            resp.content_length = len(data)
            resp.stream = iter([data[: len(data) // 2]])
        else:
            resp.data = data


@contextmanager
def serving(registry: LyingRegistry) -> Iterator[LyingRegistry]:
    """Serve `registry` on a free loopback port for the block."""
    server = waitress.create_server(registry.app(), host="127.0.0.1", port=0, threads=4)
    registry.url = f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        # close every channel from the server's own loop thread (closing them from here races
        # its select), which then ends with nothing left to watch
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))  # type: ignore[union-attr]
        thread.join(timeout=5)
        server.task_dispatcher.shutdown(timeout=1)  # type: ignore[union-attr]
