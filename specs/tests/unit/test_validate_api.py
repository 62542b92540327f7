"""How validate() reports: one error carrying every problem, one line, cheap to import."""

from __future__ import annotations

import pytest
from porter_specs import media_types
from porter_specs.errors import DocumentError, PorterError
from porter_specs.validate import (
    KINDS,
    Problem,
    ValidationError,
    kind_for_media_type,
    problems,
    schema,
    validate,
)

from .conftest import modules_imported_by


def test_a_valid_document_passes_silently(example):
    assert validate(example("manifest-image"), "manifest") is None


def test_validation_error_carries_every_problem(example, broken):
    document = broken(broken(example("manifest-image"), "/layers/0/size", -1), "/schemaVersion", 3)
    with pytest.raises(ValidationError) as caught:
        validate(document, "manifest")
    assert caught.value.problems == [
        Problem("/layers/0/size", "must be at least 0"),
        Problem("/schemaVersion", "must be 2"),
    ]


def test_validation_error_is_a_porter_document_error():
    assert issubclass(ValidationError, DocumentError)
    assert issubclass(ValidationError, PorterError)


def test_validation_error_is_one_line_naming_the_object(example, broken):
    document = broken(example("oci-layout"), "/imageLayoutVersion", 1)
    with pytest.raises(ValidationError) as caught:
        validate(document, "layout-header", what="layout /tmp/x")
    assert str(caught.value) == (
        "layout /tmp/x: invalid layout-header: /imageLayoutVersion: must be a string, not integer"
    )


def test_validation_error_line_shortens_a_long_list():
    with pytest.raises(ValidationError) as caught:
        validate({"errors": [{"code": c} for c in "abcde"]}, "distribution-error")
    assert str(caught.value).endswith("(and 2 more)")
    assert "\n" not in str(caught.value)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown document kind 'manifesto'"):
        problems({}, "manifesto")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_schema_of_draft_2020_12(kind):
    assert schema(kind)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    ("media_type", "kind"),
    [
        (media_types.IMAGE_MANIFEST, "manifest"),
        (media_types.DOCKER_MANIFEST, "manifest"),
        (media_types.IMAGE_INDEX, "index"),
        (media_types.DOCKER_MANIFEST_LIST, "index"),
        (media_types.IMAGE_CONFIG, "config"),
        (media_types.LAYER_TAR, None),
    ],
)
def test_a_media_type_names_its_kind(media_type, kind):
    assert kind_for_media_type(media_type) == kind


def test_importing_validate_does_not_import_jsonschema():
    assert "jsonschema" not in modules_imported_by("import porter_specs.validate")


def test_problem_reads_as_pointer_then_message():
    assert str(Problem("/layers/0/digest", "required field is missing")) == (
        "/layers/0/digest: required field is missing"
    )


def test_validating_a_valid_document_does_not_import_jsonschema():
    code = (
        "from porter_specs.validate import validate\n"
        "validate({'imageLayoutVersion': '1.0.0'}, 'layout-header')"
    )
    assert "jsonschema" not in modules_imported_by(code)


def test_an_invalid_document_gets_jsonschemas_problems():
    assert problems({"imageLayoutVersion": 1.0}, "layout-header") == [
        Problem("/imageLayoutVersion", "must be a string, not number")
    ]
