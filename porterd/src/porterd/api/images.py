"""Image routes of the Engine API (moby's api/swagger.yaml, version 1.43).

    GET  /images/json             POST /images/create (pull; import with fromSrc)
    POST /images/prune            POST /images/load           GET /images/get
    GET  /images/{name}/json      GET  /images/{name}/history GET /images/{name}/get
    POST /images/{name}/tag       POST /images/{name}/push    DELETE /images/{name}

Image names hold slashes (`localhost:5000/x`), so the per-image routes are one path route
whose tail says what is asked, as dockerd's `{name:.*}/json` routes do.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

import falcon
from porter_image.distribution.auth import Credentials
from porter_image.reference import InvalidReferenceError, parse_docker_reference
from porter_specs.errors import PorterError
from porter_specs.models import Platform

from porterd.api import query
from porterd.api.openapi import BOOLEAN, FILTERS, query_parameter
from porterd.errors import DaemonError, InvalidParameter, NotFound, Unavailable
from porterd.images import ImageStore, docker_json
from porterd.images.filters import LIST_FILTERS, PRUNE_FILTERS, dangling, matcher
from porterd.images.registry import Emit
from porterd.images.store import tag_reference

JSON_STREAM = "application/json"
TAR = "application/x-tar"
log = logging.getLogger("porterd.api.images")


_STRING = {"type": "string"}
_STRINGS = {"type": "array", "items": _STRING}
_PROGRESS = {"200": {"description": "JSON progress messages, one a line"}}


class ImageList:
    openapi = {
        "get": {
            "parameters": [
                query_parameter("all", BOOLEAN),
                query_parameter("digests", BOOLEAN),
                query_parameter("shared-size", BOOLEAN),
                FILTERS,
            ]
        }
    }

    def __init__(self, images: ImageStore) -> None:
        self.images = images

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        filters = query.filters(req, LIST_FILTERS)
        accepts = matcher(filters, self.images.get)
        everything = query.flag(req, "all")
        listed = [
            docker_json.summary(s)
            for s in self.images.images()
            if accepts(s) and (everything or s.names or "dangling" in filters)
        ]
        resp.media = listed


class ImageCreate:
    openapi = {
        "post": {
            "parameters": [
                query_parameter(name, _STRING)
                for name in ("fromImage", "fromSrc", "repo", "tag", "message", "platform")
            ]
            + [query_parameter("changes", _STRINGS)],
            "responses": _PROGRESS,
        }
    }

    def __init__(self, images: ImageStore) -> None:
        self.images = images

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        source = req.get_param("fromSrc")
        image = req.get_param("fromImage")
        if source is not None:
            resp.content_type = JSON_STREAM
            resp.media = self._import(req, source)
        elif image:
            resp.content_type = JSON_STREAM
            resp.stream = self._pull(req, image)
        else:
            raise InvalidParameter("fromImage or fromSrc is required")

    def _import(self, req: falcon.Request, source: str) -> dict[str, str]:
        """`fromSrc=-` imports the body; an http(s) URL is fetched, as dockerd does."""
        repo = req.get_param("repo") or ""
        name = str(tag_reference(repo, req.get_param("tag"))) if repo else None
        changes = req.get_param_as_list("changes") or []
        message = req.get_param("message") or ""
        if source == "-":
            stored = self.images.import_rootfs(request_body(req), name, message, changes)
        else:
            with fetched(source) as stream:
                stored = self.images.import_rootfs(stream, name, message, changes, source)
        return {"status": stored.id}

    def _pull(self, req: falcon.Request, image: str) -> Iterator[bytes]:
        tag = req.get_param("tag") or ""
        text = f"{image}@{tag}" if tag.startswith("sha256:") else image
        try:
            reference = parse_docker_reference(text, default_tag=False)
            if tag and not tag.startswith("sha256:"):
                reference = reference.with_tag(tag)
            elif reference.tag is None and reference.digest is None:
                reference = reference.with_tag("latest")
            platform = (
                Platform.parse(req.get_param("platform")) if req.get_param("platform") else None
            )
        except (InvalidReferenceError, PorterError, ValueError) as exc:
            raise InvalidParameter(str(exc)) from exc
        credentials = registry_credentials(req)
        return json_stream(lambda emit: self.images.pull(reference, emit, platform, credentials))


class ImagePrune:
    openapi = {"post": {"parameters": [FILTERS]}}

    def __init__(self, images: ImageStore) -> None:
        self.images = images

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        filters = query.filters(req, PRUNE_FILTERS)
        only_dangling = bool(dangling(filters, True))
        accepts = matcher({k: v for k, v in filters.items() if k != "dangling"}, self.images.get)
        report = self.images.prune(only_dangling, keep=lambda stored: not accepts(stored))
        resp.media = {
            "ImagesDeleted": [r.to_json() for r in report.deleted] or None,
            "SpaceReclaimed": report.space_reclaimed,
        }


class ImagesSave:
    openapi = {
        "get": {"parameters": [query_parameter("names", {"type": "array", "items": _STRING})]}
    }

    def __init__(self, images: ImageStore) -> None:
        self.images = images

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        names = req.get_param_as_list("names") or []
        if not names:
            raise InvalidParameter("names: at least one image to save is required")
        for name in names:
            self.images.get(name)
        resp.content_type = TAR
        resp.stream = tar_stream(lambda out: self.images.save(names, out))


class ImageLoad:
    openapi = {"post": {"parameters": [query_parameter("quiet", BOOLEAN)]}}

    def __init__(self, images: ImageStore) -> None:
        self.images = images

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        lines = self.images.load(request_body(req))
        resp.content_type = JSON_STREAM
        resp.data = b"".join(_line({"stream": f"{line}\n"}) for line in lines)


class ImageItem:
    """`/images/{name}` and its tails: json, history, tag, push, get."""

    openapi = {
        "get": {
            "description": "`{name}/json` inspects the image, `{name}/history` lists its history"
        },
        "post": {
            "description": "`{name}/tag` names the image `repo:tag`, `{name}/push` pushes it",
            "parameters": [query_parameter("repo", _STRING), query_parameter("tag", _STRING)],
            "responses": {"201": {"description": "tagged"}, **_PROGRESS},
        },
        "delete": {
            "parameters": [query_parameter("force", BOOLEAN), query_parameter("noprune", BOOLEAN)]
        },
    }

    def __init__(self, images: ImageStore) -> None:
        self.images = images

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        base, tail = _split(name, ("json", "history", "get"))
        if tail == "json":
            stored = self.images.get(base)
            lowerdirs = [str(p) for p in self.images.lowerdirs(stored)]
            resp.media = docker_json.inspect(stored, lowerdirs)
        elif tail == "history":
            stored = self.images.get(base)
            resp.media = docker_json.history(stored, list(stored.layer_sizes))
        elif tail == "get":
            self.images.get(base)  # an unknown name is a 404 before the stream starts
            resp.content_type = TAR
            resp.stream = tar_stream(lambda out: self.images.save([base], out))
        else:
            raise NotFound("page not found")

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        base, tail = _split(name, ("tag", "push"))
        if tail == "tag":
            self.images.tag(base, req.get_param("repo") or "", req.get_param("tag"))
            resp.status = falcon.HTTP_201
        elif tail == "push":
            references = self._push_references(base, req.get_param("tag") or "")
            credentials = registry_credentials(req)
            resp.content_type = JSON_STREAM
            resp.stream = json_stream(lambda emit: self.images.push(references, emit, credentials))
        else:
            raise NotFound("page not found")

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        results = self.images.remove(
            name, force=query.flag(req, "force"), prune=not query.flag(req, "noprune")
        )
        resp.media = [r.to_json() for r in results]

    def _push_references(self, base: str, tag: str) -> list[Any]:
        """The references a push sends: `base:tag`, or every tag of `base`'s repository."""
        try:
            repository = parse_docker_reference(base, default_tag=False)
            if tag:
                return [repository.with_tag(tag)]
            if repository.tag:
                return [repository]
        except InvalidReferenceError as exc:
            raise InvalidParameter(str(exc)) from exc
        found = [
            parse_docker_reference(n)
            for stored in self.images.images()
            for n in stored.names
            if "@" not in n and parse_docker_reference(n).name == repository.name
        ]
        if not found:
            raise NotFound(f"An image does not exist locally with the tag: {base}")
        return sorted(found, key=str)


@contextlib.contextmanager
def fetched(url: str) -> Iterator[BinaryIO]:
    """The body of `url` (http or https) as a stream; one clear error when it cannot be had."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise InvalidParameter(f"fromSrc {url!r}: give - (the request body) or an http(s) URL")
    import requests

    try:
        response = requests.get(url, stream=True, timeout=30)
    except requests.RequestException as exc:
        raise Unavailable(f"cannot fetch {url}: {exc}") from exc
    with response:
        if response.status_code != 200:
            raise InvalidParameter(f"cannot fetch {url}: HTTP {response.status_code}")
        response.raw.decode_content = True
        yield cast(BinaryIO, response.raw)


def request_body(req: falcon.Request) -> BinaryIO:
    """The body as a stream: bounded by Content-Length, or the server's de-chunked stream
    (docker's `load` and `import` send their tars chunked, without a length)."""
    if req.content_length is None:
        return cast(BinaryIO, req.stream)
    return cast(BinaryIO, req.bounded_stream)


def _split(name: str, tails: tuple[str, ...]) -> tuple[str, str | None]:
    base, slash, tail = name.rpartition("/")
    if slash and base and tail in tails:
        return base, tail
    return name, None


def registry_credentials(req: falcon.Request) -> Credentials | None:
    """`X-Registry-Auth`: base64url JSON of the credentials (empty or `{}`: anonymous)."""
    header = req.get_header("X-Registry-Auth")
    if not header:
        return None
    return auth_credentials(auth_document(header, "X-Registry-Auth"), "X-Registry-Auth")


def auth_document(header: str, name: str) -> dict[str, Any]:
    """The base64url JSON object an auth header (`name`) carries; InvalidParameter if not."""
    try:
        padded = header + "=" * (-len(header) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameter(f"invalid {name} header: not base64 JSON") from None
    if not isinstance(document, dict):
        raise InvalidParameter(f"invalid {name} header: not a JSON object")
    return document


def auth_credentials(document: dict[str, Any], name: str) -> Credentials | None:
    """The credentials of one auth config (None: anonymous)."""
    token = document.get("identitytoken") or document.get("registrytoken")
    username = document.get("username") or ""
    password = document.get("password") or token or ""
    if not isinstance(username, str) or not isinstance(password, str):
        raise InvalidParameter(f"invalid {name} header: username and password are strings")
    if not username and not password:
        return None
    return Credentials(username or "<token>", password)


_END = object()
_CHUNK = 1 << 16


class _Cancelled(Exception):
    """The client went away: the producing thread stops at its next write."""


def json_stream(work: Callable[[Emit], object]) -> Iterator[bytes]:
    """Run `work` in a thread and stream what it emits as dockerd's JSON lines.

    An error raised before the first message is raised here, so the request gets its status
    code; after that it becomes the stream's last message (`error` and `errorDetail`).
    """
    return _threaded(lambda put: work(lambda message: put(_line(message))), _error_line)


def tar_stream(write: Callable[[BinaryIO], object]) -> Iterator[bytes]:
    """Run `write(out)` in a thread and stream what it writes (a save's tar). An error after
    the first bytes ends the stream early, as dockerd's does."""

    def produce(put: Callable[[bytes], None]) -> None:
        out = _QueueWriter(put)
        write(cast(BinaryIO, out))
        out.flush()

    return _threaded(produce, None)


def _threaded(
    produce: Callable[[Callable[[bytes], None]], object],
    error_line: Callable[[BaseException], bytes] | None,
) -> Iterator[bytes]:
    chunks: queue.Queue[Any] = queue.Queue(maxsize=64)
    cancelled = threading.Event()

    def put(item: Any) -> None:
        while True:
            if cancelled.is_set():
                raise _Cancelled
            try:
                chunks.put(item, timeout=1)
                return
            except queue.Full:
                continue

    def run() -> None:
        try:
            produce(put)
            put(_END)
        except _Cancelled:
            return
        except BaseException as exc:
            with contextlib.suppress(_Cancelled):
                put(exc)

    threading.Thread(target=run, name="porterd-image-stream", daemon=True).start()
    first = chunks.get()
    if isinstance(first, BaseException):
        raise first
    return _drain(first, chunks, cancelled, error_line)


def _drain(
    first: Any,
    chunks: queue.Queue[Any],
    cancelled: threading.Event,
    error_line: Callable[[BaseException], bytes] | None,
) -> Iterator[bytes]:
    item = first
    try:
        while item is not _END:
            if isinstance(item, BaseException):
                log.warning("image stream failed after it started: %s", item)
                if error_line is not None:
                    yield error_line(item)
                return
            yield item
            item = chunks.get()
    finally:
        cancelled.set()


class _QueueWriter:
    """A writable file whose writes go to the stream in chunks of at least _CHUNK bytes."""

    def __init__(self, put: Callable[[bytes], None]) -> None:
        self._put = put
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= _CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._put(bytes(self._buffer))
            self._buffer.clear()


def _error_line(error: BaseException) -> bytes:
    known = isinstance(error, DaemonError | PorterError)
    text = str(error) if known else "internal error in porterd; see the daemon log"
    return _line({"errorDetail": {"message": text}, "error": text})


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\r\n"


def add_routes(app: falcon.App, images: ImageStore) -> None:
    app.add_route("/images/json", ImageList(images))
    app.add_route("/images/create", ImageCreate(images))
    app.add_route("/images/prune", ImagePrune(images))
    app.add_route("/images/get", ImagesSave(images))
    app.add_route("/images/load", ImageLoad(images))
    app.add_route("/images/{name:path}", ImageItem(images))
