"""DistributionInspect of a registry that answers what no registry of ours would store: a
client's request about a lying registry is answered 400, never a 500."""

from __future__ import annotations

import json

import pytest
from porter_image.distribution.manifests import RawManifest
from porter_specs.digest import from_bytes
from porter_specs.media_types import IMAGE_INDEX
from porterd.errors import InvalidParameter
from porterd.images import distribution


class OneRegistry:
    """porterd's registry settings without mirrors or insecure registries."""

    def sources(self, reference):
        return [reference]

    def insecure(self):
        return ()


def serving_top_manifest(monkeypatch: pytest.MonkeyPatch, document: dict) -> None:
    """Every registry source answers `document` as the top manifest of any reference."""
    data = json.dumps(document).encode()
    top = RawManifest(data, IMAGE_INDEX, from_bytes(data))

    class LyingSource:
        def __init__(self, reference, options) -> None:
            pass

        def top_manifest(self) -> RawManifest:
            return top

        def close(self) -> None:
            pass

    monkeypatch.setattr(distribution, "RegistrySource", LyingSource)


def test_an_index_whose_manifests_is_no_list_is_an_invalid_parameter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serving_top_manifest(
        monkeypatch, {"schemaVersion": 2, "mediaType": IMAGE_INDEX, "manifests": {}}
    )
    with pytest.raises(InvalidParameter, match="manifests is not a list"):
        distribution.distribution_inspect(OneRegistry(), "127.0.0.1:5000/demo/app:v1")
