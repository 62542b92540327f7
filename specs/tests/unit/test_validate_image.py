"""Broken image-spec documents are refused, each problem named by its JSON pointer."""

from __future__ import annotations

import pytest
from porter_specs import media_types
from porter_specs.validate import Problem, problems

EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
MANIFEST_TYPE_MESSAGE = (
    "must be application/vnd.oci.image.manifest.v1+json (or Docker's schema2 manifest type)"
)
INDEX_TYPE_MESSAGE = (
    "must be application/vnd.oci.image.index.v1+json (or Docker's manifest list type)"
)
NOT_HEX = "encoded part is not a valid sha256 hex string"

# id: (pointer to change, new value or None to delete, expected pointer, expected message)
BROKEN_MANIFESTS = {
    "layer-digest-outside-the-grammar": (
        "/layers/0/digest",
        "not a digest",
        "/layers/0/digest",
        "must be a digest (algorithm:encoded)",
    ),
    "layer-digest-of-an-unsupported-algorithm": (
        "/layers/0/digest",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "/layers/0/digest",
        "unsupported algorithm 'md5'",
    ),
    "layer-digest-in-upper-case-hex": (
        "/layers/0/digest",
        "sha256:" + "A" * 64,
        "/layers/0/digest",
        NOT_HEX,
    ),
    "config-without-digest": (
        "/config/digest",
        None,
        "/config/digest",
        "required field is missing",
    ),
    "negative-layer-size": ("/layers/1/size", -1, "/layers/1/size", "must be at least 0"),
    "layer-size-as-a-string": (
        "/layers/0/size",
        "32654",
        "/layers/0/size",
        "must be an integer, not string",
    ),
    "layer-size-as-a-float": (
        "/layers/0/size",
        32654.0,
        "/layers/0/size",
        "must be an integer, not number",
    ),
    "schema-version-1": ("/schemaVersion", 1, "/schemaVersion", "must be 2"),
    "media-type-of-an-index": (
        "/mediaType",
        media_types.IMAGE_INDEX,
        "/mediaType",
        MANIFEST_TYPE_MESSAGE,
    ),
    "unknown-layer-media-type": (
        "/layers/2/mediaType",
        "application/vnd.example.layer",
        "/layers/2/mediaType",
        "unknown layer media type application/vnd.example.layer",
    ),
    "layer-media-type-outside-rfc-6838": (
        "/layers/0/mediaType",
        "tar gzip",
        "/layers/0/mediaType",
        "must be a media type (type/subtype, RFC 6838)",
    ),
    "config-media-type-with-a-trailing-newline": (
        "/config/mediaType",
        media_types.IMAGE_CONFIG + "\n",
        "/config/mediaType",
        "must be a media type (type/subtype, RFC 6838)",
    ),
    "config-media-type-of-a-layer": (
        "/config/mediaType",
        media_types.LAYER_TAR_GZIP,
        "/config/mediaType",
        "application/vnd.oci.image.layer.v1.tar+gzip is not a config media type",
    ),
    "annotation-value-not-a-string": (
        "/annotations/com.example.key1",
        1,
        "/annotations/com.example.key1",
        "must be a string, not integer",
    ),
    "subject-naming-a-layer": (
        "/subject/mediaType",
        media_types.LAYER_TAR,
        "/subject/mediaType",
        "must name a manifest or an index",
    ),
    "a-manifests-list-as-an-index-has": (
        "/manifests",
        [],
        "/manifests",
        "a manifest has no manifests (an index does)",
    ),
    "url-without-a-scheme": (
        "/layers/0/urls",
        ["example.com/layer"],
        "/layers/0/urls/0",
        "must be a URI with a scheme (RFC 3986)",
    ),
    "no-layers": ("/layers", None, "/layers", "required field is missing"),
}


@pytest.mark.parametrize(
    ("pointer", "value", "where", "message"), BROKEN_MANIFESTS.values(), ids=BROKEN_MANIFESTS
)
def test_a_broken_manifest_is_refused(example, broken, pointer, value, where, message):
    document = broken(example("manifest-image"), pointer, *([] if value is None else [value]))
    assert problems(document, "manifest") == [Problem(where, message)]


def test_every_problem_of_a_manifest_is_reported(example, broken):
    document = broken(example("manifest-image"), "/layers/0/size", -1)
    document = broken(document, "/config/digest", "md5:00")
    assert problems(document, "manifest") == [
        Problem("/config/digest", "unsupported algorithm 'md5'"),
        Problem("/layers/0/size", "must be at least 0"),
    ]


def test_a_manifest_with_an_empty_config_needs_an_artifact_type(example, broken):
    document = broken(example("manifest-artifact-minimal"), "/artifactType")
    assert problems(document, "manifest") == [
        Problem("/artifactType", f"required when config.mediaType is {media_types.EMPTY_JSON}")
    ]


def test_an_artifacts_layers_may_have_any_media_type(example):
    assert problems(example("manifest-artifact-with-config"), "manifest") == []


def test_allowed_layer_types_admit_a_layer_media_type(example, broken):
    document = broken(example("manifest-image"), "/layers/0/mediaType", "application/x-custom")
    assert problems(document, "manifest", allowed_layer_types=["application/x-custom"]) == []


BROKEN_DESCRIPTORS = {
    "data-that-is-not-base64": ("/data", "e30", "/data", "must be base64 (RFC 4648 section 4)"),
    "data-longer-than-size": ("/size", 3, "/data", "decodes to 2 bytes but size is 3"),
    "data-that-does-not-match-the-digest": (
        "/data",
        "W10=",
        "/data",
        f"does not match digest {EMPTY_DIGEST}",
    ),
    "no-media-type": ("/mediaType", None, "/mediaType", "required field is missing"),
    "artifact-type-outside-rfc-6838": (
        "/artifactType",
        "sbom",
        "/artifactType",
        "must be a media type (type/subtype, RFC 6838)",
    ),
    "platform-without-os": (
        "/platform",
        {"architecture": "amd64"},
        "/platform/os",
        "required field is missing",
    ),
    "sha256-digest-one-character-short": (
        "/digest",
        EMPTY_DIGEST[:-1],
        "/digest",
        NOT_HEX,
    ),
    "annotation-value-null": (
        "/annotations",
        {"a": None},
        "/annotations/a",
        "must be a string, not null",
    ),
    "key-with-a-slash-escaped-in-the-pointer": (
        "/annotations",
        {"a/b~c": 5},
        "/annotations/a~1b~0c",
        "must be a string, not integer",
    ),
}


@pytest.mark.parametrize(
    ("pointer", "value", "where", "message"), BROKEN_DESCRIPTORS.values(), ids=BROKEN_DESCRIPTORS
)
def test_a_broken_descriptor_is_refused(example, broken, pointer, value, where, message):
    document = broken(example("descriptor-empty"), pointer, *([] if value is None else [value]))
    assert problems(document, "descriptor") == [Problem(where, message)]


BROKEN_INDEXES = {
    "entry-naming-a-layer": (
        "/manifests/0/mediaType",
        media_types.LAYER_TAR,
        "/manifests/0/mediaType",
        f"must name a manifest or an index, not {media_types.LAYER_TAR}",
    ),
    "no-manifests": ("/manifests", None, "/manifests", "required field is missing"),
    "platform-without-architecture": (
        "/manifests/0/platform/architecture",
        None,
        "/manifests/0/platform/architecture",
        "required field is missing",
    ),
    "layers-as-a-manifest-has": (
        "/layers",
        [],
        "/layers",
        "an index has no layers (a manifest does)",
    ),
    "media-type-of-a-manifest": (
        "/mediaType",
        media_types.IMAGE_MANIFEST,
        "/mediaType",
        INDEX_TYPE_MESSAGE,
    ),
    "entry-digest-of-an-unsupported-algorithm": (
        "/manifests/1/digest",
        "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "/manifests/1/digest",
        "unsupported algorithm 'sha1'",
    ),
}


@pytest.mark.parametrize(
    ("pointer", "value", "where", "message"), BROKEN_INDEXES.values(), ids=BROKEN_INDEXES
)
def test_a_broken_index_is_refused(example, broken, pointer, value, where, message):
    document = broken(
        example("index-multiple-media-types"), pointer, *([] if value is None else [value])
    )
    assert problems(document, "index") == [Problem(where, message)]


def test_an_index_entry_of_an_unknown_media_type_is_not_an_error(example, broken):
    document = broken(example("index-two-platforms"), "/manifests/0/mediaType", "application/xml")
    assert problems(document, "index") == []


def test_a_layout_index_ref_name_must_be_a_string(example, broken):
    pointer = "/manifests/1/annotations/org.opencontainers.image.ref.name"
    document = broken(example("layout-index"), pointer, 1)
    assert problems(document, "index.json") == [Problem(pointer, "must be a string, not integer")]


BROKEN_CONFIGS = {
    "rootfs-type-other-than-layers": ("/rootfs/type", "tar", "/rootfs/type", 'must be "layers"'),
    "diff-id-not-hex": ("/rootfs/diff_ids/0", "sha256:abc", "/rootfs/diff_ids/0", NOT_HEX),
    "no-architecture": ("/architecture", None, "/architecture", "required field is missing"),
    "created-not-rfc-3339": ("/created", "yesterday", "/created", "must be an RFC 3339 date-time"),
    "history-not-matching-diff-ids": (
        "/history/0/empty_layer",
        True,
        "/history",
        "has 1 entries that add a layer but rootfs.diff_ids has 2",
    ),
    "exposed-port-by-name": (
        "/config/ExposedPorts/http",
        {},
        "/config/ExposedPorts/http",
        "must be port or port/protocol",
    ),
    "env-entry-without-a-value": ("/config/Env/1", "FOO", "/config/Env/1", "must be NAME=value"),
    "label-value-not-a-string": (
        "/config/Labels/com.example.n",
        1,
        "/config/Labels/com.example.n",
        "must be a string, not integer",
    ),
}


@pytest.mark.parametrize(
    ("pointer", "value", "where", "message"), BROKEN_CONFIGS.values(), ids=BROKEN_CONFIGS
)
def test_a_broken_image_config_is_refused(example, broken, pointer, value, where, message):
    document = broken(example("image-config"), pointer, *([] if value is None else [value]))
    assert problems(document, "config") == [Problem(where, message)]


def test_an_image_configs_optional_fields_may_be_null(example, broken):
    document = broken(example("image-config"), "/author", None)
    document = broken(document, "/config/Cmd", None)
    document = broken(document, "/history/0/comment", None)
    assert problems(document, "config") == []


def test_an_unknown_image_layout_version_is_refused():
    assert problems({"imageLayoutVersion": "2.0.0"}, "layout-header") == [
        Problem("/imageLayoutVersion", "unsupported image layout version 2.0.0 (known: 1.0.0)")
    ]


def test_a_layout_header_needs_its_version():
    assert problems({}, "layout-header") == [
        Problem("/imageLayoutVersion", "required field is missing")
    ]


def test_a_document_that_is_not_an_object_is_refused_at_the_root():
    assert problems([], "layout-header") == [Problem("", "must be an object, not array")]


def test_a_size_in_a_layout_index_is_a_json_integer(example, broken):
    """index.json's schema is the image index's, reached by $ref: the same choices hold there."""
    document = broken(example("layout-index"), "/manifests/0/size", 1.0)
    assert problems(document, "index.json") == [
        Problem("/manifests/0/size", "must be an integer, not number")
    ]
