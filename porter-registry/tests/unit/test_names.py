"""Repository names and tags follow the distribution-spec's grammar."""

from __future__ import annotations

import pytest
from porter_registry.names import is_valid_name, is_valid_tag


@pytest.mark.parametrize(
    "name", ["a", "library/busybox", "a.b/c_d/e__f", "x-y--z", "0/1/2", "a" * 255]
)
def test_valid_repository_names(name: str) -> None:
    assert is_valid_name(name)


@pytest.mark.parametrize(
    "name", ["", "A", "a/", "/a", "a//b", "a..b", "-a", "a-", "a___b", "a b", "a" * 256, "a:b"]
)
def test_invalid_repository_names(name: str) -> None:
    assert not is_valid_name(name)


@pytest.mark.parametrize("tag", ["latest", "v1.0", "_x", "A-b.c_d", "a" * 128])
def test_valid_tags(tag: str) -> None:
    assert is_valid_tag(tag)


@pytest.mark.parametrize("tag", ["", ".a", "-a", "a/b", "a:b", "a" * 129, "é"])
def test_invalid_tags(tag: str) -> None:
    assert not is_valid_tag(tag)
