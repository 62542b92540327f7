"""`docker-archive:FILE[:NAME:TAG]`: the tar `docker save` writes and `docker load` reads.

Its `manifest.json` lists, per image, the config file, the `RepoTags` and the layer files
(uncompressed tars, whose digests are the config's diff_ids). Read, the image becomes an OCI
image (config, layers stored as found); written, layers are stored uncompressed and checked
against the diff_ids.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any, BinaryIO

from porter_specs import media_types
from porter_specs.digest import Digester
from porter_specs.models import Descriptor, Manifest

from porter_image.archives.tar_files import (
    StagingDestination,
    UnpackedSource,
    add_bytes,
    add_file,
    regular_member,
)
from porter_image.distribution.manifests import MANIFEST_LIMIT, RawManifest
from porter_image.errors import ImageError, ImageRefError
from porter_image.layer.compression import decompressed_chunks, detect, for_media_type
from porter_image.layout import Layout
from porter_image.reference import parse_docker_reference
from porter_image.transport import DockerArchiveName

DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
SOURCE_TAG = "image"
_LAYER_TYPES = {
    "none": media_types.LAYER_TAR,
    "gzip": media_types.LAYER_TAR_GZIP,
    "zstd": media_types.LAYER_TAR_ZSTD,
}


def docker_archive_source(name: DockerArchiveName) -> UnpackedSource:
    return UnpackedSource(lambda folder: _import(name, folder))


def docker_archive_destination(name: DockerArchiveName) -> StagingDestination:
    def write(layout: Path, manifest: RawManifest, out: BinaryIO) -> None:
        _export(name, layout, manifest, out)

    return StagingDestination(name.path, write)


# -- reading -----------------------------------------------------------------------------------


def _import(name: DockerArchiveName, folder: Path) -> str:
    what = str(name)
    try:
        with tarfile.open(name.path, "r:*") as tar:
            entry = _choose(name, _manifest_json(tar, what))
            layout = Layout.create(folder)
            config_path = _field(entry, "Config", str, what)
            config = _store(layout, tar, config_path, what)
            layers = [
                _store(layout, tar, path, what, layer=True)
                for path in _field(entry, "Layers", list, what)
            ]
    except (tarfile.TarError, EOFError) as exc:
        raise ImageRefError(what, f"not a readable tar: {exc}") from exc
    manifest = Manifest(
        Descriptor(media_types.IMAGE_CONFIG, config.digest, config.size), tuple(layers)
    )
    layout.set_tag(SOURCE_TAG, layout.put_json(media_types.IMAGE_MANIFEST, manifest.to_json()))
    return SOURCE_TAG


def _manifest_json(tar: tarfile.TarFile, what: str) -> list[Any]:
    member = regular_member(tar, "manifest.json", what)
    if member.size > MANIFEST_LIMIT:
        raise ImageRefError(what, "manifest.json is too large")
    stream = tar.extractfile(member)
    assert stream is not None
    try:
        document = json.loads(stream.read())
    except ValueError:
        raise ImageRefError(what, "manifest.json is not JSON") from None
    if not isinstance(document, list) or not all(isinstance(e, dict) for e in document):
        raise ImageRefError(what, "manifest.json is not a list of images")
    return document


def _choose(name: DockerArchiveName, entries: list[dict[str, Any]]) -> dict[str, Any]:
    if name.reference is None:
        if len(entries) != 1:
            raise ImageRefError(str(name), f"name an image: the archive holds {len(entries)}")
        return entries[0]
    for entry in entries:
        for tag in entry.get("RepoTags") or []:
            try:
                if parse_docker_reference(tag) == name.reference:
                    return entry
            except ValueError:
                continue
    raise ImageRefError(str(name), f"the archive holds no {name.reference.familiar()}")


def _field(entry: dict[str, Any], key: str, kind: type, what: str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind):
        raise ImageRefError(what, f"manifest.json: {key} is missing or not a {kind.__name__}")
    return value


def _store(
    layout: Layout, tar: tarfile.TarFile, path: str, what: str, layer: bool = False
) -> Descriptor:
    member = regular_member(tar, path, what)
    stream = tar.extractfile(member)
    assert stream is not None
    with stream:
        compression = detect(stream.peek(4)[:4]) if layer else "none"  # type: ignore[attr-defined]
        digest, size = layout.put_blob(stream)
    media_type = _LAYER_TYPES[compression] if layer else media_types.IMAGE_CONFIG
    return Descriptor(media_type, digest, size)


# -- writing -----------------------------------------------------------------------------------


def _export(name: DockerArchiveName, folder: Path, raw: RawManifest, out: BinaryIO) -> None:
    what = str(name)
    if raw.is_index:
        raise ImageError(what, "a docker-archive holds one image: choose a --platform, not --all")
    layout = Layout.open(folder)
    manifest = Manifest.from_json(raw.document())
    config = json.loads(layout.read_blob(manifest.config))
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    if len(diff_ids) != len(manifest.layers):
        raise ImageError(what, "the config's diff_ids do not match the layers")
    layer_names: list[str] = []
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        config_name = f"{manifest.config.digest.encoded}.json"
        add_file(tar, config_name, layout.blob_path(manifest.config.digest))
        for layer, diff_id in zip(manifest.layers, diff_ids, strict=True):
            member = f"{diff_id.partition(':')[2]}/layer.tar"
            if member not in layer_names:
                _add_uncompressed(tar, layout, layer, diff_id, member, folder)
            layer_names.append(member)
        tags = [name.reference.familiar()] if name.reference else []
        entry = {"Config": config_name, "RepoTags": tags, "Layers": layer_names}
        add_bytes(tar, "manifest.json", json.dumps([entry]).encode())


def _add_uncompressed(
    tar: tarfile.TarFile,
    layout: Layout,
    layer: Descriptor,
    diff_id: str,
    member: str,
    folder: Path,
) -> None:
    compression = (
        "none" if layer.media_type == DOCKER_LAYER_TAR else for_media_type(layer.media_type)
    )
    plain = folder / f".layer-{layer.digest.encoded}.tar"
    digester = Digester()
    with layout.open_blob(layer.digest) as blob, open(plain, "wb") as out:
        for chunk in decompressed_chunks(blob, compression):
            digester.update(chunk)
            out.write(chunk)
    if str(digester.digest()) != diff_id:
        raise ImageError(f"layer {layer.digest}", f"uncompressed, it is not its diff_id {diff_id}")
    add_file(tar, member, plain)
    plain.unlink()
