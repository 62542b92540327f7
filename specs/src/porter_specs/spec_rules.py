"""The rules of the OCI specs that a JSON Schema cannot express.

Each check reads a document that may be malformed (the schema reports the shape problems), so
every check looks before it leaps and yields nothing for values of the wrong type.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from typing import Any

from porter_specs import distribution, media_types
from porter_specs.digest import Digest, from_bytes
from porter_specs.errors import InvalidDigestError
from porter_specs.problem import Problem, pointer_of

Path = tuple[str | int, ...]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+\Z")
_PORT = re.compile(r"\d{1,5}(-\d{1,5})?(/(tcp|udp|sctp))?\Z")
_NOT_MANIFESTS = (
    media_types.LAYERS
    | media_types.IMAGE_CONFIGS
    | {media_types.EMPTY_JSON, media_types.DESCRIPTOR, media_types.LAYOUT_HEADER}
)
_NOT_CONFIGS = (
    media_types.MANIFESTS
    | media_types.INDEXES
    | media_types.LAYERS
    | {media_types.DESCRIPTOR, media_types.LAYOUT_HEADER}
)
LAYOUT_VERSIONS = frozenset({media_types.OCI_LAYOUT_VERSION})


def check(document: Any, kind: str, allowed_layer_types: frozenset[str]) -> Iterator[Problem]:
    """Yield the rule problems of `document` as `kind` (an image-spec or distribution-spec
    kind: the runtime-spec's rules are runtime_rules')."""
    if not isinstance(document, dict):
        return
    if kind == "manifest":
        yield from _manifest(document, media_types.LAYERS | allowed_layer_types)
    else:
        yield from _CHECKS.get(kind, _nothing)(document)


def _nothing(_document: dict[str, Any]) -> Iterator[Problem]:
    return iter(())


def _problem(path: Path, message: str) -> Problem:
    return Problem(pointer_of(path), message)


def _parse_digest(value: Any, path: Path) -> tuple[Digest | None, list[Problem]]:
    """Parse a digest with porter_specs.digest (sha256 and sha512 only)."""
    if not isinstance(value, str):
        return None, []
    try:
        return Digest.parse(value), []
    except InvalidDigestError as exc:
        return None, [_problem(path, exc.reason)]


def _descriptor(document: Any, path: Path) -> Iterator[Problem]:
    """The digest, the embedded data against size and digest, and URLs of one descriptor."""
    if not isinstance(document, dict):
        return
    digest, found = _parse_digest(document.get("digest"), (*path, "digest"))
    yield from found
    data = document.get("data")
    if isinstance(data, str):
        yield from _data(data, digest, document.get("size"), (*path, "data"))
    urls = document.get("urls")
    for index, url in enumerate(urls if isinstance(urls, list) else ()):
        if isinstance(url, str) and not _URI.match(url):
            yield _problem((*path, "urls", index), "must be a URI with a scheme (RFC 3986)")


def _data(data: str, digest: Digest | None, size: Any, path: Path) -> Iterator[Problem]:
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        yield _problem(path, "must be base64 (RFC 4648 section 4)")
        return
    if isinstance(size, int) and not isinstance(size, bool) and len(content) != size:
        yield _problem(path, f"decodes to {len(content)} bytes but size is {size}")
    elif digest is not None and from_bytes(content, digest.algorithm) != digest:
        yield _problem(path, f"does not match digest {digest}")


def _media_type(document: Any) -> str | None:
    # A non-string mediaType is the schema's problem to report; the rules only compare strings.
    value = document.get("mediaType") if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


def _manifest(document: dict[str, Any], layer_types: frozenset[str]) -> Iterator[Problem]:
    config = document.get("config")
    yield from _descriptor(config, ("config",))
    config_type = _media_type(config)
    if config_type in _NOT_CONFIGS:
        yield _problem(("config", "mediaType"), f"{config_type} is not a config media type")
    if config_type == media_types.EMPTY_JSON and not document.get("artifactType"):
        yield _problem(
            ("artifactType",), f"required when config.mediaType is {media_types.EMPTY_JSON}"
        )
    layers = document.get("layers")
    for index, layer in enumerate(layers if isinstance(layers, list) else ()):
        yield from _descriptor(layer, ("layers", index))
        layer_type = _media_type(layer)
        # Only an image's layers are filesystem changesets; an artifact's may be anything.
        is_image = config_type in media_types.IMAGE_CONFIGS
        if is_image and isinstance(layer_type, str) and layer_type not in layer_types:
            yield _problem(("layers", index, "mediaType"), f"unknown layer media type {layer_type}")
    yield from _subject(document)
    if "manifests" in document:
        yield _problem(("manifests",), "a manifest has no manifests (an index does)")


def _subject(document: dict[str, Any]) -> Iterator[Problem]:
    subject = document.get("subject")
    yield from _descriptor(subject, ("subject",))
    if _media_type(subject) in _NOT_MANIFESTS:
        yield _problem(("subject", "mediaType"), "must name a manifest or an index")


def _index(document: dict[str, Any]) -> Iterator[Problem]:
    manifests = document.get("manifests")
    for index, entry in enumerate(manifests if isinstance(manifests, list) else ()):
        yield from _descriptor(entry, ("manifests", index))
        entry_type = _media_type(entry)
        # Unknown media types MUST NOT be an error (image-index.md); known non-manifests are.
        if entry_type in _NOT_MANIFESTS:
            yield _problem(
                ("manifests", index, "mediaType"),
                f"must name a manifest or an index, not {entry_type}",
            )
    yield from _subject(document)
    for key in ("config", "layers"):
        if key in document:
            yield _problem((key,), f"an index has no {key} (a manifest does)")


def _config(document: dict[str, Any]) -> Iterator[Problem]:
    yield from _created(document.get("created"), ("created",))
    rootfs = document.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    diff_ids = diff_ids if isinstance(diff_ids, list) else []
    for index, diff_id in enumerate(diff_ids):
        yield from _parse_digest(diff_id, ("rootfs", "diff_ids", index))[1]
    history = document.get("history")
    history = history if isinstance(history, list) else []
    for index, entry in enumerate(history):
        if isinstance(entry, dict):
            yield from _created(entry.get("created"), ("history", index, "created"))
    layered = [h for h in history if isinstance(h, dict) and not h.get("empty_layer")]
    if history and len(layered) != len(diff_ids):
        yield _problem(
            ("history",),
            f"has {len(layered)} entries that add a layer but rootfs.diff_ids has {len(diff_ids)}",
        )
    yield from _container_config(document.get("config"))


def _created(value: Any, path: Path) -> Iterator[Problem]:
    if isinstance(value, str) and not _RFC3339.match(value):
        yield _problem(path, "must be an RFC 3339 date-time")


def _container_config(config: Any) -> Iterator[Problem]:
    if not isinstance(config, dict):
        return
    ports = config.get("ExposedPorts")
    for port in ports if isinstance(ports, dict) else ():
        if not _PORT.match(port):
            yield _problem(("config", "ExposedPorts", port), "must be port or port/protocol")
    env = config.get("Env")
    for index, entry in enumerate(env if isinstance(env, list) else ()):
        if isinstance(entry, str) and "=" not in entry:
            yield _problem(("config", "Env", index), "must be NAME=value")


def _layout_header(document: dict[str, Any]) -> Iterator[Problem]:
    version = document.get("imageLayoutVersion")
    if isinstance(version, str) and version not in LAYOUT_VERSIONS:
        yield _problem(
            ("imageLayoutVersion",),
            f"unsupported image layout version {version} (known: {', '.join(LAYOUT_VERSIONS)})",
        )


def _distribution_error(document: dict[str, Any]) -> Iterator[Problem]:
    errors = document.get("errors")
    known = distribution.ERROR_CODES.keys() | distribution.LEGACY_ERROR_CODES
    for index, error in enumerate(errors if isinstance(errors, list) else ()):
        code = error.get("code") if isinstance(error, dict) else None
        if isinstance(code, str) and code not in known:
            yield _problem(("errors", index, "code"), f"unknown error code {code}")


_CHECKS: dict[str, Callable[[dict[str, Any]], Iterator[Problem]]] = {
    "descriptor": lambda document: _descriptor(document, ()),
    "index": _index,
    "index.json": _index,
    "config": _config,
    "layout-header": _layout_header,
    "distribution-error": _distribution_error,
}
