"""A service's image, resolved before its create transaction, so that an unknown image is one
clear 400 and nothing is written to etcd.

The node that answers the create looks in its own image store first (an image imported or
built there, or pulled before), then asks the registry (its mirrors first, as a pull does)
for the image's manifest and config through porter_image.remote.inspect_remote, with the
credentials the client sent (`X-Registry-Auth`, `docker service create
--with-registry-auth`). An image that neither has is refused; so is one whose registry cannot
be reached, since no node could then pull it (an image only other nodes hold must be made
known to the answering node, or to a registry, first).
"""

from __future__ import annotations

import contextlib
from typing import Protocol

from porter_image.distribution.auth import Credentials
from porter_image.distribution.client import RegistryOptions
from porter_image.reference import DockerReference, InvalidReferenceError, parse_docker_reference
from porter_image.remote import inspect_remote
from porter_specs.errors import PorterError

from porterd.errors import InvalidParameter, NotFound

CHECK_TIMEOUT = 20.0


class Registries(Protocol):
    def sources(self, reference: DockerReference) -> list[DockerReference]: ...

    def insecure(self) -> tuple[str, ...]: ...


class ImageSource(Protocol):
    """What the check needs of porterd's image store (porterd.images.store.ImageStore)."""

    registry: Registries

    def get(self, name: str) -> object: ...


def check_image(images: ImageSource, image: str, credentials: Credentials | None = None) -> None:
    """Return when `image` is in the node's store or its registry; InvalidParameter if not."""
    try:
        reference = parse_docker_reference(image)
    except InvalidReferenceError as error:
        raise InvalidParameter(f"invalid image {image!r}: {error}") from error
    with contextlib.suppress(NotFound):
        images.get(image)
        return
    options = RegistryOptions(
        credentials=credentials,
        insecure_registries=images.registry.insecure(),
        retries=0,
        timeout=CHECK_TIMEOUT,
    )
    why = ""
    for source in images.registry.sources(reference):
        try:
            inspect_remote(source, options)
            return
        except PorterError as error:
            why = str(error)
    raise InvalidParameter(
        f"image {reference.familiar()} is not on this node and its registry does not have it: "
        + why
    )
