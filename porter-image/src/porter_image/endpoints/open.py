"""The source or destination for a parsed image name, by its transport."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from porter_image.archives.docker_archive import (
    docker_archive_destination,
    docker_archive_source,
)
from porter_image.archives.oci_archive import oci_archive_destination, oci_archive_source
from porter_image.distribution.client import RegistryOptions
from porter_image.endpoints.base import ImageDestination, ImageSource
from porter_image.endpoints.layout import LayoutDestination, LayoutSource
from porter_image.endpoints.registry import RegistryDestination, RegistrySource
from porter_image.errors import ImageRefError
from porter_image.transport import (
    DockerArchiveName,
    ImageName,
    LayoutName,
    OciArchiveName,
    RegistryName,
)

Opener = Callable[[Any, RegistryOptions], Any]

SOURCES: dict[type, Opener] = {
    RegistryName: lambda name, options: RegistrySource(name.reference, options),
    LayoutName: lambda name, options: LayoutSource(name),
    OciArchiveName: lambda name, options: oci_archive_source(name),
    DockerArchiveName: lambda name, options: docker_archive_source(name),
}
DESTINATIONS: dict[type, Opener] = {
    RegistryName: lambda name, options: RegistryDestination(name.reference, options),
    LayoutName: lambda name, options: LayoutDestination(name),
    OciArchiveName: lambda name, options: oci_archive_destination(name),
    DockerArchiveName: lambda name, options: docker_archive_destination(name),
}


def open_source(name: ImageName, options: RegistryOptions) -> ImageSource:
    source: ImageSource = _open(SOURCES, name, options, "read")
    return source


def open_destination(name: ImageName, options: RegistryOptions) -> ImageDestination:
    destination: ImageDestination = _open(DESTINATIONS, name, options, "written")
    return destination


def _open(table: dict[type, Opener], name: ImageName, options: RegistryOptions, verb: str) -> Any:
    opener = table.get(type(name))
    if opener is None:
        raise ImageRefError(str(name), f"this transport cannot be {verb} yet")
    return opener(name, options)
