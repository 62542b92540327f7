"""Image names as skopeo spells them, one parser for the library and the command line.

    docker://HOST[:PORT]/REPO[:TAG|@DIGEST]   a registry (no host: Docker Hub)
    oci:LAYOUT[:TAG|@DIGEST]                  an OCI image layout
    LAYOUT:TAG                                the same, without the transport (as before)
    oci-archive:FILE[:TAG]                    a tar of an OCI image layout
    docker-archive:FILE[:NAME:TAG]            the tar `docker save` writes and `docker load` reads

A layout's tag follows the last `:` whose tail holds no `/` (so `./a:b/c` is a path); an
archive's file ends at the first `:`, as skopeo reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from porter_specs.digest import Digest
from porter_specs.errors import InvalidDigestError

from porter_image.errors import ImageRefError
from porter_image.layout import check_tag
from porter_image.reference import DockerReference, parse_docker_reference

UNSUPPORTED = ("containers-storage", "docker-daemon", "dir", "ostree", "sif", "tarball")


@dataclass(frozen=True)
class RegistryName:
    """`docker://...`: an image in a registry."""

    reference: DockerReference

    def __str__(self) -> str:
        return f"docker://{self.reference}"


@dataclass(frozen=True)
class LayoutName:
    """`oci:LAYOUT[:TAG|@DIGEST]`: an image in an OCI image layout."""

    path: Path
    tag: str | None = None
    digest: Digest | None = None

    def __str__(self) -> str:
        suffix = f"@{self.digest}" if self.digest else f":{self.tag}" if self.tag else ""
        return f"oci:{self.path}{suffix}"


@dataclass(frozen=True)
class OciArchiveName:
    """`oci-archive:FILE[:TAG]`: a tar holding an OCI image layout."""

    path: Path
    tag: str | None = None

    def __str__(self) -> str:
        return f"oci-archive:{self.path}" + (f":{self.tag}" if self.tag else "")


@dataclass(frozen=True)
class DockerArchiveName:
    """`docker-archive:FILE[:NAME:TAG]`: a `docker save` tar."""

    path: Path
    reference: DockerReference | None = None

    def __str__(self) -> str:
        name = f":{self.reference.familiar()}" if self.reference else ""
        return f"docker-archive:{self.path}{name}"


ImageName = RegistryName | LayoutName | OciArchiveName | DockerArchiveName


def parse_image_name(text: str) -> ImageName:
    """Parse a skopeo-style image name; a malformed one raises ImageRefError (one line)."""
    transport, sep, rest = text.partition(":")
    if sep and rest.startswith("//") and transport == "docker":
        return RegistryName(parse_docker_reference(rest[2:]))
    if sep and transport == "oci":
        return _layout(text, rest)
    if sep and transport == "oci-archive":
        path, _, tag = rest.partition(":")
        return OciArchiveName(_path(text, path), _tag(text, tag) if tag else None)
    if sep and transport == "docker-archive":
        path, _, name = rest.partition(":")
        reference = parse_docker_reference(name) if name else None
        if reference is not None and reference.digest is not None:
            raise ImageRefError(text, "a docker-archive name takes NAME:TAG, not a digest")
        return DockerArchiveName(_path(text, path), reference)
    if sep and transport in UNSUPPORTED:
        raise ImageRefError(text, f"the {transport}: transport is not supported")
    return _layout(text, text)


def _layout(text: str, rest: str) -> LayoutName:
    path, at, digest = rest.rpartition("@")
    if at and "/" not in digest:
        try:
            return LayoutName(_path(text, path), None, Digest.parse(digest))
        except InvalidDigestError as exc:
            raise ImageRefError(text, exc.reason) from exc
    path, sep, tag = rest.rpartition(":")
    if not sep or "/" in tag:
        return LayoutName(_path(text, rest))
    return LayoutName(_path(text, path), _tag(text, tag))


def _path(text: str, path: str) -> Path:
    if not path:
        raise ImageRefError(text, "the path is empty")
    return Path(path)


def _tag(text: str, tag: str) -> str:
    try:
        return check_tag(tag)
    except ValueError as exc:
        raise ImageRefError(text, str(exc)) from exc
