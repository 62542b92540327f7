"""Helpers shared by porter-registry's tests: building blobs, manifests and pushing them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from porter_specs import media_types
from porter_specs.digest import from_bytes

EMPTY_CONFIG = b"{}"


def digest_of(data: bytes) -> str:
    return str(from_bytes(data))


def descriptor(data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest_of(data), "size": len(data), **extra}


def manifest_bytes(
    config: bytes = EMPTY_CONFIG,
    layers: tuple[bytes, ...] = (),
    *,
    config_type: str = media_types.IMAGE_CONFIG,
    layer_type: str = media_types.LAYER_TAR_GZIP,
    media_type: str = media_types.IMAGE_MANIFEST,
    **extra: Any,
) -> bytes:
    document = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": descriptor(config, config_type),
        "layers": [descriptor(layer, layer_type) for layer in layers],
        **extra,
    }
    return json.dumps(document).encode()


def index_bytes(children: list[bytes], media_type: str = media_types.IMAGE_INDEX, **extra: Any):
    document = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [descriptor(c, media_types.IMAGE_MANIFEST) for c in children],
        **extra,
    }
    return json.dumps(document).encode()


@dataclass
class Pusher:
    """Pushes through any client with falcon-testing's or requests' calling convention."""

    client: Any

    def blob(self, name: str, data: bytes) -> str:
        digest = digest_of(data)
        response = self.client.simulate_post(
            f"/v2/{name}/blobs/uploads/", params={"digest": digest}, body=data
        )
        assert response.status_code == 201, response.text
        return digest

    def manifest(
        self,
        name: str,
        reference: str,
        content: bytes,
        media_type: str = media_types.IMAGE_MANIFEST,
    ) -> Any:
        response = self.client.simulate_put(
            f"/v2/{name}/manifests/{reference}",
            body=content,
            headers={"Content-Type": media_type},
        )
        assert response.status_code == 201, response.text
        return response

    def image(self, name: str, tag: str, layers: tuple[bytes, ...] = (b"layer",)) -> bytes:
        """Push config, layers and manifest; return the manifest bytes."""
        self.blob(name, EMPTY_CONFIG)
        for layer in layers:
            self.blob(name, layer)
        content = manifest_bytes(EMPTY_CONFIG, layers)
        self.manifest(name, tag, content)
        return content
