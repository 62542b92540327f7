"""`GET /distribution/{name}/json`: what a registry says an image reference points at.

The docker CLI asks it before `docker service create` (unless `--no-resolve-image`) to pin
the service's image to a digest. The answer is moby's DistributionInspect: the descriptor of
the manifest or index the reference names, and the platforms it has (an index's children's,
or the one in a single manifest's config). Only the top manifest is read, and for a single
manifest its config; no layer is fetched.

The registry is reached as a pull reaches it: its mirrors first for a Docker Hub image,
credentials from `X-Registry-Auth`, plain HTTP for loopback and `--insecure-registry`
hosts. As dockerd answers, an image or registry that cannot be found is a 404 and refused
credentials a 401 (403 when the registry forbids it); an unreachable registry is a 404 too,
since nothing is wrong with the daemon.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from porter_image.distribution.auth import Credentials
from porter_image.distribution.client import RegistryOptions
from porter_image.distribution.errors import (
    RegistryNotFoundError,
    RegistryUnauthorizedError,
    RegistryUnavailableError,
)
from porter_image.distribution.manifests import RawManifest
from porter_image.endpoints.registry import RegistrySource
from porter_image.errors import ImageError
from porter_image.reference import DockerReference, InvalidReferenceError, parse_docker_reference
from porter_specs.errors import PorterError

from porterd.errors import DaemonError, Forbidden, InvalidParameter, NotFound, Unauthorized

TIMEOUT = 20.0
# the fields of an OCI platform object, as the Engine API spells them
_PLATFORM_STRINGS = ("architecture", "os", "os.version", "variant")
_PLATFORM_LISTS = ("os.features", "features")
log = logging.getLogger("porterd.images")


class Registries(Protocol):
    """What porterd's registry flags say (porterd.images.registry.RegistrySettings)."""

    def sources(self, reference: DockerReference) -> list[DockerReference]: ...

    def insecure(self) -> tuple[str, ...]: ...


def distribution_inspect(
    registries: Registries, name: str, credentials: Credentials | None = None
) -> dict[str, Any]:
    """moby's DistributionInspect of `name` (`repo[:tag][@digest]`), from its registry."""
    try:
        reference = parse_docker_reference(name)
    except InvalidReferenceError as error:
        raise InvalidParameter(f"invalid reference format: {name}: {error}") from error
    options = RegistryOptions(
        credentials=credentials,
        insecure_registries=registries.insecure(),
        retries=0,
        timeout=TIMEOUT,
    )
    *mirrors, origin = registries.sources(reference)
    for mirror in mirrors:
        try:
            return _inspect(mirror, options)
        except (RegistryNotFoundError, RegistryUnavailableError) as error:
            # a mirror without the image, or down, is skipped as a pull skips it
            log.warning("registry mirror %s failed, trying the next source: %s", mirror, error)
        except PorterError as error:
            raise _daemon_error(error, reference) from error
    try:
        return _inspect(origin, options)
    except PorterError as error:
        raise _daemon_error(error, reference) from error


def _inspect(reference: DockerReference, options: RegistryOptions) -> dict[str, Any]:
    source = RegistrySource(reference, options)
    try:
        top = source.top_manifest()
        platforms = _index_platforms(top) if top.is_index else [_platform(source.read_config(top))]
    finally:
        source.close()
    descriptor = top.descriptor
    return {
        "Descriptor": {
            "mediaType": descriptor.media_type,
            "digest": str(descriptor.digest),
            "size": descriptor.size,
        },
        "Platforms": platforms,
    }


def _index_platforms(index: RawManifest) -> list[dict[str, Any]]:
    children = index.document().get("manifests")
    if not isinstance(children, list):
        raise ImageError(f"index {index.digest}", "manifests is not a list")
    return [
        _platform(child["platform"])
        for child in children
        if isinstance(child, dict) and isinstance(child.get("platform"), dict)
    ]


def _platform(document: dict[str, Any]) -> dict[str, Any]:
    """An OCI platform object: its string fields, and its lists when they hold strings."""
    platform: dict[str, Any] = {
        key: document[key]
        for key in _PLATFORM_STRINGS
        if isinstance(document.get(key), str) and document[key]
    }
    for key in _PLATFORM_LISTS:
        value = document.get(key)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            platform[key] = value
    platform.setdefault("architecture", "")
    platform.setdefault("os", "")
    return platform


def _daemon_error(error: PorterError, reference: DockerReference) -> DaemonError:
    what = reference.familiar()
    if isinstance(error, RegistryUnauthorizedError):
        kind = Forbidden if error.status == 403 else Unauthorized
        return kind(f"{what}: access to the registry denied: {error}")
    if isinstance(error, RegistryNotFoundError | RegistryUnavailableError):
        return NotFound(f"{what}: not found on its registry: {error}")
    return InvalidParameter(f"{what}: {error}")
