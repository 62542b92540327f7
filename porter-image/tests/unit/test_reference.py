"""Docker references are read and normalised as docker/distribution's `reference` does."""

from __future__ import annotations

import pytest
from porter_image.reference import (
    DockerReference,
    InvalidReferenceError,
    api_host,
    parse_docker_reference,
)
from porter_specs.digest import Digest
from porter_specs.errors import PorterError

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "full"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("alice/app", "docker.io/alice/app:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1"),
        ("localhost/x", "localhost/x:latest"),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t"),
        ("registry.example/team/app:v1.2_3", "registry.example/team/app:v1.2_3"),
        ("[::1]:5000/x:t", "[::1]:5000/x:t"),
        ("x@" + DIGEST, "docker.io/library/x@" + DIGEST),
        ("x:t@" + DIGEST, "docker.io/library/x:t@" + DIGEST),
        ("ab-c__d/e--f.g", "docker.io/ab-c__d/e--f.g:latest"),
    ],
)
def test_references_normalise_to_dockers_full_form(text: str, full: str) -> None:
    assert str(parse_docker_reference(text)) == full


def test_the_parts_of_a_reference_are_fields() -> None:
    ref = parse_docker_reference("127.0.0.1:5000/a/b:t")
    assert ref == DockerReference("127.0.0.1:5000", "a/b", "t", None)


def test_a_digest_reference_gets_no_default_tag() -> None:
    ref = parse_docker_reference("x@" + DIGEST)
    assert (ref.tag, ref.digest) == (None, Digest.parse(DIGEST))


def test_the_default_tag_can_be_left_off_for_repository_names() -> None:
    assert parse_docker_reference("localhost:5000/x", default_tag=False).tag is None


@pytest.mark.parametrize(
    ("text", "familiar"),
    [
        ("busybox", "busybox:latest"),
        ("docker.io/library/busybox:1", "busybox:1"),
        ("alice/app:v1", "alice/app:v1"),
        ("docker.io/library/a/b:v1", "library/a/b:v1"),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        ("x@" + DIGEST, "x@" + DIGEST),
    ],
)
def test_familiar_is_dockers_short_form(text: str, familiar: str) -> None:
    assert parse_docker_reference(text).familiar() == familiar


def test_the_manifest_identifier_prefers_the_digest() -> None:
    assert parse_docker_reference("x:t@" + DIGEST).identifier == DIGEST
    assert parse_docker_reference("x:t").identifier == "t"


def test_docker_hub_is_served_from_its_api_host() -> None:
    assert parse_docker_reference("busybox").registry_host == "registry-1.docker.io"
    assert parse_docker_reference("localhost:5000/x").registry_host == "localhost:5000"
    assert api_host("docker.io") == "registry-1.docker.io"  # what login checks against
    assert api_host("localhost:5000") == "localhost:5000"


def test_with_tag_replaces_tag_and_digest() -> None:
    assert str(parse_docker_reference("x@" + DIGEST).with_tag("v2")) == "docker.io/library/x:v2"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty reference"),
        ("Busybox", "must be lowercase"),
        ("alice/App", "must be lowercase"),
        ("localhost:5000/X", "must be lowercase"),
        ("ab" * 32, "64-byte hexadecimal"),
        ("x:bad tag", "invalid tag"),
        ("x:" + "t" * 129, "invalid tag"),
        ("x@sha256:abc", "invalid digest"),
        ("x@", "invalid digest"),
        ("x@md5:" + "ab" * 16, "unsupported algorithm"),
        ("x//y", "invalid repository name"),
        ("-x", "invalid repository name"),
        ("x/", "invalid repository name"),
        ("a_-b", "invalid repository name"),
        ("exa_mple.com/x", "invalid registry host"),
        ("x/" + "y" * 260, "longer than 255"),
    ],
)
def test_malformed_references_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidReferenceError, match=reason) as caught:
        parse_docker_reference(text)
    assert isinstance(caught.value, PorterError)
    assert "\n" not in str(caught.value)
