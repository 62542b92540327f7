"""`docker-archive:FILE[:NAME:TAG]`: the tar `docker save` writes and `docker load` reads.

The tar itself is `porter_image.docker_archive`'s (the form docker 25 writes, read in either
form docker has written); this module makes it a copy source and destination. Read, the
archive is loaded into a temp layout and the image named (or the only one) is copied from
there; written, the image is staged in a temp layout and saved with the name in `RepoTags`.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from porter_image.archives.tar_files import STAGING_TAG, StagingDestination, UnpackedSource
from porter_image.distribution.manifests import RawManifest
from porter_image.docker_archive import (
    LoadedImage,
    SavedImage,
    read_docker_archive,
    write_docker_archive,
)
from porter_image.errors import ImageError, ImageRefError
from porter_image.image import load_image
from porter_image.layout import Layout
from porter_image.reference import InvalidReferenceError, parse_docker_reference
from porter_image.transport import DockerArchiveName


def docker_archive_source(name: DockerArchiveName) -> UnpackedSource:
    def fill(folder: Path) -> str:
        layout = Layout.create(folder / "layout")
        try:
            with open(name.path, "rb") as stream:
                loaded = read_docker_archive(
                    stream, layout, folder / "spool", lambda i: f"image-{i}"
                )
        except ImageError as exc:
            raise ImageRefError(str(name), exc.reason) from exc
        return _choose(name, loaded)

    return UnpackedSource(fill, "layout")


def docker_archive_destination(name: DockerArchiveName) -> StagingDestination:
    def write(folder: Path, manifest: RawManifest, out: BinaryIO) -> None:
        if manifest.is_index:
            raise ImageError(str(name), "a docker-archive holds one image: choose a --platform")
        layout = Layout.open(folder)
        tags = (name.reference.familiar(),) if name.reference else ()
        write_docker_archive(layout, [SavedImage(load_image(layout, STAGING_TAG), tags)], out)

    return StagingDestination(name.path, write)


def _choose(name: DockerArchiveName, loaded: list[LoadedImage]) -> str:
    if name.reference is None:
        if len(loaded) != 1:
            raise ImageRefError(str(name), f"name an image: the archive holds {len(loaded)}")
        return loaded[0].tag
    for image in loaded:
        for repo_tag in image.repo_tags:
            try:
                if parse_docker_reference(repo_tag) == name.reference:
                    return image.tag
            except InvalidReferenceError:
                continue
    raise ImageRefError(str(name), f"the archive holds no {name.reference.familiar()}")
