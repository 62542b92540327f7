"""Which index entry serves a platform: docker's (containerd's) matching rules, in the one
function that loading, copying and remote inspect share."""

from __future__ import annotations

import pytest
from porter_image.errors import ImageError
from porter_image.platforms import choose_platform
from porter_specs.digest import from_bytes
from porter_specs.models import Descriptor, Platform


def entries(*platforms: str) -> list[Descriptor]:
    """Index entries for `platforms` (`-` for an entry without one), told apart by digest."""
    return [
        Descriptor(
            "application/vnd.oci.image.manifest.v1+json",
            from_bytes(f"{i}:{text}".encode()),
            1,
            platform=None if text == "-" else Platform.parse(text),
        )
        for i, text in enumerate(platforms)
    ]


def chosen(wanted: str, *offered: str) -> str:
    children = entries(*offered)
    picked = choose_platform(children, Platform.parse(wanted), "index")
    return offered[children.index(picked)]


@pytest.mark.parametrize(
    ("wanted", "offered", "expected"),
    [
        ("linux/amd64", ("linux/arm64", "linux/amd64"), "linux/amd64"),
        ("linux/arm64", ("linux/amd64", "linux/arm64/v8"), "linux/arm64/v8"),
        ("linux/arm64/v8", ("linux/amd64", "linux/arm64"), "linux/arm64"),
        ("linux/arm", ("linux/arm/v6", "linux/arm/v7"), "linux/arm/v7"),
        ("linux/arm/v7", ("linux/arm",), "linux/arm"),
        ("linux/arm/v7", ("linux/arm/v5", "linux/arm/v6"), "linux/arm/v6"),
        ("linux/arm64", ("linux/arm/v6", "linux/arm/v7"), "linux/arm/v7"),
        ("linux/amd64", ("linux/386", "linux/amd64"), "linux/amd64"),
        ("linux/amd64", ("linux/386",), "linux/386"),
        ("linux/amd64/v3", ("linux/amd64", "linux/amd64/v2"), "linux/amd64/v2"),
        ("linux/x86_64", ("linux/amd64",), "linux/amd64"),
        ("linux/aarch64", ("linux/arm64/v8",), "linux/arm64/v8"),
        ("linux/armhf", ("linux/arm/v7",), "linux/arm/v7"),
        ("Linux/AMD64", ("linux/amd64",), "linux/amd64"),
        ("linux/amd64", ("-", "linux/amd64"), "linux/amd64"),
    ],
    ids=lambda value: value if isinstance(value, str) else ",".join(value),
)
def test_the_entry_docker_would_pull_is_chosen(
    wanted: str, offered: tuple[str, ...], expected: str
) -> None:
    assert chosen(wanted, *offered) == expected


@pytest.mark.parametrize(
    ("wanted", "offered"),
    [
        ("linux/arm/v6", ("linux/arm/v7",)),
        ("linux/arm/v5", ("linux/arm",)),
        ("linux/amd64", ("linux/amd64/v2",)),
        ("linux/arm", ("linux/arm64",)),
        ("linux/386", ("linux/amd64",)),
        ("windows/amd64", ("linux/amd64",)),
        ("linux/amd64", ("-",)),
    ],
    ids=lambda value: value if isinstance(value, str) else ",".join(value),
)
def test_an_entry_the_platform_cannot_run_is_not_chosen(
    wanted: str, offered: tuple[str, ...]
) -> None:
    with pytest.raises(ImageError, match=f"no manifest for platform {wanted}"):
        chosen(wanted, *offered)


def test_the_first_of_equally_good_entries_is_chosen() -> None:
    assert (
        choose_platform(
            entries("linux/arm64", "linux/arm64/v8"), Platform.parse("linux/arm64"), "i"
        )
        == entries("linux/arm64")[0]
    )


def test_the_refusal_names_what_the_index_offers() -> None:
    with pytest.raises(
        ImageError, match=r"^index: .* \(the index offers: linux/s390x, linux/ppc64le\)$"
    ):
        chosen("linux/riscv64", "linux/s390x", "-", "linux/ppc64le")
