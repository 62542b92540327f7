"""Media types of the image-spec, and the Docker schema2 types registries still meet."""

from __future__ import annotations

OCI_LAYOUT_VERSION = "1.0.0"

DESCRIPTOR = "application/vnd.oci.descriptor.v1+json"
LAYOUT_HEADER = "application/vnd.oci.layout.header.v1+json"
IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
IMAGE_INDEX = "application/vnd.oci.image.index.v1+json"
IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
EMPTY_JSON = "application/vnd.oci.empty.v1+json"

LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
LAYER_NONDISTRIBUTABLE_TAR = "application/vnd.oci.image.layer.nondistributable.v1.tar"
LAYER_NONDISTRIBUTABLE_TAR_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
LAYER_NONDISTRIBUTABLE_TAR_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFESTS = frozenset({IMAGE_MANIFEST, DOCKER_MANIFEST})
INDEXES = frozenset({IMAGE_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_CONFIGS = frozenset({IMAGE_CONFIG, DOCKER_CONFIG})

# Layer media type -> compression ("" for none). Docker's gzip layers are accepted where the
# image-spec says clients meet them.
LAYER_COMPRESSION = {
    LAYER_TAR: "",
    LAYER_TAR_GZIP: "gzip",
    LAYER_TAR_ZSTD: "zstd",
    LAYER_NONDISTRIBUTABLE_TAR: "",
    LAYER_NONDISTRIBUTABLE_TAR_GZIP: "gzip",
    LAYER_NONDISTRIBUTABLE_TAR_ZSTD: "zstd",
    DOCKER_LAYER_TAR_GZIP: "gzip",
    DOCKER_FOREIGN_LAYER_TAR_GZIP: "gzip",
}
LAYERS = frozenset(LAYER_COMPRESSION)


def layer_media_type(compression: str) -> str:
    """The OCI layer media type for a compression name ("", "gzip", "zstd")."""
    try:
        return {"": LAYER_TAR, "none": LAYER_TAR, "gzip": LAYER_TAR_GZIP, "zstd": LAYER_TAR_ZSTD}[
            compression
        ]
    except KeyError:
        raise ValueError(f"unknown compression {compression!r} (use none, gzip or zstd)") from None
