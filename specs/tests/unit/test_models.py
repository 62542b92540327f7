"""The image-spec models read the spec's examples and write them back unchanged."""

from __future__ import annotations

import pytest
from porter_specs import media_types
from porter_specs.canonical import canonical_json
from porter_specs.digest import from_bytes
from porter_specs.errors import DocumentError
from porter_specs.models import Descriptor, ImageConfig, Index, Manifest, Platform, encode


@pytest.mark.parametrize(
    "name", ["manifest-image", "manifest-artifact-minimal", "manifest-artifact-with-config"]
)
def test_a_manifest_round_trips(example, name):
    document = example(name)
    assert Manifest.from_json(document).to_json() == document


@pytest.mark.parametrize(
    "name", ["index-two-platforms", "index-multiple-media-types", "layout-index"]
)
def test_an_index_round_trips(example, name):
    document = example(name)
    assert Index.from_json(document).to_json() == document


@pytest.mark.parametrize(
    "name",
    ["descriptor-manifest", "descriptor-urls", "descriptor-artifact-type", "descriptor-empty"],
)
def test_a_descriptor_round_trips(example, name):
    document = example(name)
    assert Descriptor.from_json(document).to_json() == document


def test_an_image_config_keeps_what_the_model_knows(example):
    config = ImageConfig.from_json(example("image-config"))
    assert ImageConfig.from_json(config.to_json()) == config
    assert config.platform == Platform("linux", "amd64")
    assert len(config.diff_ids) == 2 and config.history[1].empty_layer


def test_null_optional_fields_read_as_absent(example, broken):
    document = broken(example("image-config"), "/author", None)
    document = broken(document, "/os.features", None)
    config = ImageConfig.from_json(document)
    assert (config.author, config.os_features) == ("", ())


def test_a_descriptor_of_content_has_its_digest_and_size():
    descriptor = Descriptor.of(media_types.EMPTY_JSON, b"{}")
    assert (descriptor.digest, descriptor.size) == (from_bytes(b"{}"), 2)


def test_encode_is_the_canonical_json_of_the_model(example):
    manifest = Manifest.from_json(example("manifest-image"))
    assert encode(manifest) == canonical_json(example("manifest-image"))


def test_a_manifest_without_config_is_a_document_error():
    with pytest.raises(DocumentError, match="manifest: missing required field 'config'"):
        Manifest.from_json({"schemaVersion": 2, "layers": []})


@pytest.mark.parametrize(
    ("text", "platform"),
    [("linux/amd64", Platform("linux", "amd64")), ("linux/arm/v7", Platform("linux", "arm", "v7"))],
)
def test_a_platform_parses_from_os_arch_variant(text, platform):
    assert Platform.parse(text) == platform and str(platform) == text
