"""Images for the copy tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

from image_test_support import tar_bytes
from porter_image.layout import Layout
from porter_specs import media_types
from porter_specs.models import Descriptor, Platform

PLATFORMS = (Platform("linux", "amd64"), Platform("linux", "arm64", "v8"))


def make_index(layout: Layout, tag: str) -> Descriptor:
    """A two-platform index (amd64, arm64) of one-layer images, tagged `tag`."""
    children = []
    for platform in PLATFORMS:
        layer = tar_bytes({"arch": str(platform).encode()})
        layer_digest, size = layout.put_bytes(layer)
        config = {
            **platform.to_json(),
            "rootfs": {"type": "layers", "diff_ids": [str(layer_digest)]},
        }
        config_descriptor = layout.put_json(media_types.IMAGE_CONFIG, config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": media_types.IMAGE_MANIFEST,
            "config": config_descriptor.to_json(),
            "layers": [Descriptor(media_types.LAYER_TAR, layer_digest, size).to_json()],
        }
        child = layout.put_json(media_types.IMAGE_MANIFEST, manifest)
        children.append(Descriptor(child.media_type, child.digest, child.size, platform=platform))
    index = {
        "schemaVersion": 2,
        "mediaType": media_types.IMAGE_INDEX,
        "manifests": [c.to_json() for c in children],
    }
    descriptor = layout.put_json(media_types.IMAGE_INDEX, index)
    layout.set_tag(tag, descriptor)
    return descriptor


SIGNATURE_TYPE = "application/vnd.example.signature"


def make_signature(layout: Layout, tag: str, subject: Descriptor) -> Descriptor:
    """An artifact manifest (one blob, empty config) whose subject is `subject`, tagged `tag`."""
    empty = layout.put_json(media_types.EMPTY_JSON, {})
    digest, size = layout.put_bytes(b"signature of " + str(subject.digest).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_types.IMAGE_MANIFEST,
        "artifactType": SIGNATURE_TYPE,
        "config": empty.to_json(),
        "layers": [Descriptor("application/octet-stream", digest, size).to_json()],
        "subject": Descriptor(subject.media_type, subject.digest, subject.size).to_json(),
    }
    descriptor = layout.put_json(media_types.IMAGE_MANIFEST, manifest)
    layout.set_tag(tag, descriptor)
    return descriptor
