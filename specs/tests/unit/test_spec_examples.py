"""The examples printed in the OCI specs are valid under our schemas and rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from porter_specs.validate import problems

EXAMPLES = Path(__file__).parent / "examples"

KIND_OF_EXAMPLE = {
    "descriptor-artifact-type": "descriptor",
    "descriptor-empty": "descriptor",
    "descriptor-manifest": "descriptor",
    "descriptor-urls": "descriptor",
    "manifest-image": "manifest",
    "manifest-artifact-minimal": "manifest",
    "manifest-artifact-with-config": "manifest",
    "manifest-artifact-without-config": "manifest",
    "docker-manifest": "manifest",
    "index-two-platforms": "index",
    "index-multiple-media-types": "index",
    "docker-manifest-list": "index",
    "image-config": "config",
    "oci-layout": "layout-header",
    "layout-index": "index.json",
    "runtime-config": "runtime-config",
    "runtime-config-minimal": "runtime-config",
    "runtime-state": "runtime-state",
    "distribution-error": "distribution-error",
}


def test_every_example_file_has_a_kind():
    assert {p.stem for p in EXAMPLES.glob("*.json")} == set(KIND_OF_EXAMPLE)


@pytest.mark.parametrize(("name", "kind"), sorted(KIND_OF_EXAMPLE.items()))
def test_the_specs_example_is_valid(name, kind):
    document = json.loads((EXAMPLES / f"{name}.json").read_text())
    assert problems(document, kind) == []
