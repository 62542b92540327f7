"""Test content: blobs, image configs, manifests and indexes, built fresh for every run.

Every config carries a random author, so digests never collide with content left in a shared
registry by an earlier run. Documents are serialised with tabs and an unknown field, as the
official suite does, to check that a registry stores manifests byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCTET_STREAM = "application/octet-stream"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
# Registries may refuse to serve a manifest whose type the client did not accept.
ACCEPT_MANIFESTS = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST))

# A tiny tar.gz of one text file, the layer the official suite pushes.
LAYER_TAR_GZ = base64.b64decode(
    "H4sIAAAAAAAAA+3OQQrCMBCF4a49xXgBSUnaHMCTRBptQRNpp6i3t0UEV7oqIv7fYgbmzeJpHHSjVy0"
    "WZCa1c/MufWVe94N3RWlrZ72x3k/30nhbFWKWLPU0Dhp6keJ8im//PuU/6pZH2WVtYx8b0Sz7LjWSR5VLG6YRBumSzOlGtjkd+qD"
    "jMWiX07Befbs7AAAAAAAAAAAAAAAAAPyzO34MnqoAKAAA"
)
EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def random_digest() -> str:
    """The digest of random bytes: a well-formed digest no registry has seen."""
    return sha256(os.urandom(32))


def random_suffix() -> str:
    return os.urandom(4).hex()


@dataclass(frozen=True)
class Blob:
    """Bytes with the media type a descriptor of them should carry."""

    data: bytes
    media_type: str = OCTET_STREAM

    @property
    def digest(self) -> str:
        return sha256(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self) -> dict:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class Document:
    """A manifest or an index: its exact bytes, its media type, and the blobs it references."""

    body: bytes
    media_type: str
    blobs: tuple[Blob, ...] = field(default=())

    @property
    def digest(self) -> str:
        return sha256(self.body)

    @property
    def size(self) -> int:
        return len(self.body)

    def descriptor(self) -> dict:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


def random_blob(size: int) -> Blob:
    return Blob(os.urandom(size))


def layer_blob() -> Blob:
    return Blob(LAYER_TAR_GZ, OCI_LAYER_GZIP)


def empty_json_blob() -> Blob:
    return Blob(b"{}", OCI_EMPTY)


def image_config() -> Blob:
    """An image config made unique by a random author."""
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []},
        "author": f"conformance-{random_suffix()}{random_suffix()}",
    }
    return Blob(json.dumps(config, indent="\t").encode(), OCI_CONFIG)


def _serialise(document: dict) -> bytes:
    return json.dumps(document, indent="\t").encode()


def image_manifest(
    config: Blob | None = None,
    layers: tuple[Blob, ...] | None = None,
    *,
    subject: Document | None = None,
    artifact_type: str | None = None,
    annotations: dict[str, str] | None = None,
) -> Document:
    """An OCI image manifest; by default a fresh config and the suite's one layer."""
    config = config if config is not None else image_config()
    layers = layers if layers is not None else (layer_blob(),)
    config_descriptor = config.descriptor()
    if config.media_type == OCI_CONFIG:
        # Fields a registry must keep although it has no use for them.
        config_descriptor["data"] = base64.b64encode(config.data).decode()
        config_descriptor["newUnspecifiedField"] = base64.b64encode(b"hello world").decode()
    document: dict = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
    if artifact_type:
        document["artifactType"] = artifact_type
    document["config"] = config_descriptor
    document["layers"] = [layer.descriptor() for layer in layers]
    if subject is not None:
        document["subject"] = subject.descriptor()
    if annotations:
        document["annotations"] = annotations
    return Document(_serialise(document), OCI_MANIFEST, (config, *layers))


def image_index(
    manifests: tuple[Document, ...],
    *,
    subject: Document | None = None,
    artifact_type: str | None = None,
    annotations: dict[str, str] | None = None,
) -> Document:
    """An OCI image index over manifests that must be pushed before it."""
    document: dict = {"schemaVersion": 2, "mediaType": OCI_INDEX}
    if artifact_type:
        document["artifactType"] = artifact_type
    document["manifests"] = [m.descriptor() for m in manifests]
    if subject is not None:
        document["subject"] = subject.descriptor()
    if annotations:
        document["annotations"] = annotations
    return Document(_serialise(document), OCI_INDEX)
