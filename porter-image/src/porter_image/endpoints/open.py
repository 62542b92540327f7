"""The source or destination for a parsed image name, by its transport."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

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


def _archive(module: str, function: str) -> Opener:
    """An archive's opener, imported when used (the docker-archive code pulls in the schema
    checks, which a registry copy should not pay for at start-up)."""

    def opener(name: Any, options: RegistryOptions) -> Any:
        return getattr(importlib.import_module(f"porter_image.archives.{module}"), function)(name)

    return opener


SOURCES: dict[type, Opener] = {
    RegistryName: lambda name, options: RegistrySource(name.reference, options),
    LayoutName: lambda name, options: LayoutSource(name),
    OciArchiveName: _archive("oci_archive", "oci_archive_source"),
    DockerArchiveName: _archive("docker_archive", "docker_archive_source"),
}
DESTINATIONS: dict[type, Opener] = {
    RegistryName: lambda name, options: RegistryDestination(name.reference, options),
    LayoutName: lambda name, options: LayoutDestination(name),
    OciArchiveName: _archive("oci_archive", "oci_archive_destination"),
    DockerArchiveName: _archive("docker_archive", "docker_archive_destination"),
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
