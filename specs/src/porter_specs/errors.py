"""The root of Porter's error model.

Every error Porter raises derives from `PorterError`; its `str()` is the one line a user
sees (what, which object, why). Components map these to exit codes or HTTP statuses in
one place each.
"""

from __future__ import annotations


class PorterError(Exception):
    """Base of every error Porter raises on purpose."""


class InvalidDigestError(PorterError, ValueError):
    """A string does not follow the image-spec's digest grammar, or names an unknown algorithm."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"invalid digest {value!r}: {reason}")
        self.value = value
        self.reason = reason


class DigestMismatchError(PorterError):
    """Content does not hash to (or is not the size of) what its descriptor promised."""

    def __init__(self, expected: str, actual: str, what: str = "content") -> None:
        super().__init__(f"{what}: digest mismatch: expected {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


class SizeMismatchError(PorterError):
    """Content is not the size its descriptor promised."""

    def __init__(self, expected: int, actual: int, what: str = "content") -> None:
        super().__init__(f"{what}: size mismatch: expected {expected} bytes, got {actual}")
        self.expected = expected
        self.actual = actual


class DocumentError(PorterError, ValueError):
    """A JSON document cannot be parsed or does not have the shape its kind requires."""
