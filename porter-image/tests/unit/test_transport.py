"""Image names are read as skopeo spells them, through one parser."""

from __future__ import annotations

from pathlib import Path

import pytest
from porter_image.errors import ImageRefError
from porter_image.reference import InvalidReferenceError, parse_docker_reference
from porter_image.transport import (
    DockerArchiveName,
    LayoutName,
    OciArchiveName,
    RegistryName,
    parse_image_name,
)
from porter_specs.digest import Digest

DIGEST = "sha256:" + "cd" * 32


def test_docker_names_are_registry_references() -> None:
    name = parse_image_name("docker://127.0.0.1:5000/a/b:t")
    assert name == RegistryName(parse_docker_reference("127.0.0.1:5000/a/b:t"))


def test_a_docker_name_without_host_is_docker_hubs() -> None:
    assert str(parse_image_name("docker://busybox")) == "docker://docker.io/library/busybox:latest"


def test_oci_names_carry_a_tag() -> None:
    assert parse_image_name("oci:/srv/layout:v1") == LayoutName(Path("/srv/layout"), "v1")


def test_oci_names_can_carry_a_digest() -> None:
    name = parse_image_name(f"oci:/srv/layout@{DIGEST}")
    assert name == LayoutName(Path("/srv/layout"), None, Digest.parse(DIGEST))


def test_a_bare_layout_and_tag_is_an_oci_name() -> None:
    assert parse_image_name("./layout:v1") == LayoutName(Path("layout"), "v1")


def test_a_colon_before_a_slash_belongs_to_the_layout_path() -> None:
    assert parse_image_name("oci:./a:b/c") == LayoutName(Path("a:b/c"))


def test_oci_archive_names_take_an_optional_tag() -> None:
    assert parse_image_name("oci-archive:/tmp/x.tar:v2") == OciArchiveName(Path("/tmp/x.tar"), "v2")
    assert parse_image_name("oci-archive:/tmp/x.tar") == OciArchiveName(Path("/tmp/x.tar"))


def test_docker_archive_names_take_a_docker_reference() -> None:
    name = parse_image_name("docker-archive:/tmp/x.tar:busybox:1")
    assert name == DockerArchiveName(Path("/tmp/x.tar"), parse_docker_reference("busybox:1"))


@pytest.mark.parametrize(
    ("text", "error", "reason"),
    [
        ("containers-storage:busybox", ImageRefError, "transport is not supported"),
        ("oci::v1", ImageRefError, "the path is empty"),
        ("oci:layout:bad tag", ImageRefError, "invalid tag"),
        (f"oci:layout@{DIGEST[:-2]}", ImageRefError, "valid sha256"),
        ("docker://Busybox", InvalidReferenceError, "must be lowercase"),
        (f"docker-archive:x.tar:busybox@{DIGEST}", ImageRefError, "not a digest"),
    ],
)
def test_malformed_names_are_refused_with_the_reason(
    text: str, error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason):
        parse_image_name(text)
