"""Layers recompressed on the way (`copy --dest-compress gzip|zstd|none`).

A layer is decompressed (its digest checked as it is read), compressed again into a temp file
and stored under its new digest; its diff_id, the digest of the tar inside, does not change,
so the config stays as it is and only the manifest's layer descriptors change.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import BinaryIO

from porter_specs import media_types as mt
from porter_specs.canonical import canonical_json
from porter_specs.digest import Digester, VerifyingReader, from_bytes
from porter_specs.models import Descriptor

from porter_image.distribution.manifests import RawManifest
from porter_image.errors import ImageError
from porter_image.manifest_format import DOCKER_LAYER_TAR

COMPRESSIONS = ("gzip", "zstd", "none")
_OCI_TYPES = {"gzip": mt.LAYER_TAR_GZIP, "zstd": mt.LAYER_TAR_ZSTD, "none": mt.LAYER_TAR}
_DOCKER_TYPES = {"gzip": mt.DOCKER_LAYER_TAR_GZIP, "none": DOCKER_LAYER_TAR}
_PLAIN_TYPES = {mt.LAYER_TAR: "none", DOCKER_LAYER_TAR: "none"}


def compression_of(media_type: str) -> str | None:
    """The compression of a layer media type; None for what is not a recompressible layer."""
    if media_type in _PLAIN_TYPES:
        return "none"
    if media_type not in _OCI_TYPES.values() and media_type != mt.DOCKER_LAYER_TAR_GZIP:
        return None  # foreign or non-distributable layers, artifacts' blobs
    return mt.LAYER_COMPRESSION[media_type] or "none"


def target_media_type(compression: str, docker: bool, where: str) -> str:
    table = _DOCKER_TYPES if docker else _OCI_TYPES
    if compression not in table:
        raise ImageError(where, f"Docker schema 2 has no {compression} layers (use --format oci)")
    return table[compression]


def recompress(
    source: BinaryIO, layer: Descriptor, compression: str, media_type: str, folder: Path
) -> tuple[Descriptor, Path]:
    """Write `layer` (read from `source`) compressed with `compression` into a file in
    `folder`; returns its descriptor and the file."""
    # here, not at the top: a copy that keeps its layers as they are never loads the codecs
    from porter_image.layer.compression import decompressed_chunks, make_compressor

    current = compression_of(layer.media_type) or "none"
    checked = VerifyingReader(source, layer.digest, layer.size, f"layer {layer.digest}")
    compressor = make_compressor(compression)
    digester = Digester()
    with tempfile.NamedTemporaryFile(dir=folder, prefix="layer-", delete=False) as out:
        for chunk in decompressed_chunks(checked, current):
            data = compressor.compress(chunk)
            digester.update(data)
            out.write(data)
        data = compressor.flush()
        digester.update(data)
        out.write(data)
    descriptor = Descriptor(
        media_type, digester.digest(), digester.size, annotations=layer.annotations
    )
    return descriptor, Path(out.name)


def with_layers(raw: RawManifest, layers: list[Descriptor]) -> RawManifest:
    """`raw` with its layer descriptors' media types, digests and sizes replaced."""
    document = raw.document()
    for entry, layer in zip(document["layers"], layers, strict=True):
        entry.update(mediaType=layer.media_type, digest=str(layer.digest), size=layer.size)
    data = canonical_json(document)
    return RawManifest(data, raw.media_type, from_bytes(data))
