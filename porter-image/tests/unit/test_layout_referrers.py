"""Referrers in OCI layouts: copied with --include-referrers, listed untagged in index.json,
found again by their subject (library and `porter-image referrers oci:LAYOUT@DIGEST`)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from copy_test_support import SIGNATURE_TYPE, make_signature
from porter_image.cli.main import cli
from porter_image.copy import CopyOptions, copy_image
from porter_image.layout import Layout


def test_a_layout_copy_with_referrers_lists_the_signature_untagged(
    image_layout: Layout, tmp_path: Path
) -> None:
    subject = image_layout.resolve("v1")
    signature = make_signature(image_layout, "sig", subject)
    result = copy_image(
        f"oci:{image_layout.path}:v1",
        f"oci:{tmp_path / 'out'}:copy",
        CopyOptions(include_referrers=True),
    )
    copied = Layout.open(tmp_path / "out")
    assert result.referrers_copied == 1
    assert [(e.tag, e.descriptor.digest) for e in copied.entries()] == [
        (None, signature.digest),
        ("copy", subject.digest),
    ]
    assert copied.entries()[0].descriptor.artifact_type == SIGNATURE_TYPE


def test_copying_again_does_not_list_the_signature_twice(
    image_layout: Layout, tmp_path: Path
) -> None:
    make_signature(image_layout, "sig", image_layout.resolve("v1"))
    for _ in range(2):
        copy_image(
            f"oci:{image_layout.path}:v1",
            f"oci:{tmp_path / 'out'}:copy",
            CopyOptions(include_referrers=True),
        )
    assert len(Layout.open(tmp_path / "out").entries()) == 2


def test_without_include_referrers_the_signature_stays_behind(
    image_layout: Layout, tmp_path: Path
) -> None:
    make_signature(image_layout, "sig", image_layout.resolve("v1"))
    copy_image(f"oci:{image_layout.path}:v1", f"oci:{tmp_path / 'out'}:copy")
    assert Layout.open(tmp_path / "out").tags() == ["copy"]
    assert len(Layout.open(tmp_path / "out").entries()) == 1


def test_referrers_command_lists_a_layouts_signature(image_layout: Layout) -> None:
    subject = image_layout.resolve("v1")
    signature = make_signature(image_layout, "sig", subject)
    result = CliRunner().invoke(
        cli, ["referrers", "--format", "json", f"oci:{image_layout.path}@{subject.digest}"]
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [(d["digest"], d["artifactType"]) for d in listed] == [
        (str(signature.digest), SIGNATURE_TYPE)
    ]


def test_referrers_command_filters_by_artifact_type(image_layout: Layout) -> None:
    make_signature(image_layout, "sig", image_layout.resolve("v1"))
    result = CliRunner().invoke(
        cli, ["referrers", "--artifact-type", "application/x-sbom", f"oci:{image_layout.path}:v1"]
    )
    assert result.exit_code == 0 and result.output == ""
