"""The `label` filter dockerd applies to containers, images, volumes and events alike."""

from __future__ import annotations

from collections.abc import Mapping


def has_label(labels: Mapping[str, str], wanted: str) -> bool:
    """`key` matches any value of that label, `key=value` only that value."""
    key, equals, value = wanted.partition("=")
    return key in labels and (not equals or labels[key] == value)
