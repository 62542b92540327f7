"""The distribution-spec's grammar for repository names, tags and references."""

from __future__ import annotations

import re

from porter_specs.digest import Digest
from porter_specs.errors import InvalidDigestError

from porter_registry.errors import RegistryError

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_PATTERN = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_PATTERN = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
# CNCF distribution's limit; longer names break file systems and clients.
MAX_NAME_LENGTH = 255


def is_valid_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and NAME_PATTERN.match(name) is not None


def is_valid_tag(tag: str) -> bool:
    return TAG_PATTERN.match(tag) is not None


def check_name(name: str) -> str:
    """Return `name`, or refuse it with NAME_INVALID."""
    if not is_valid_name(name):
        raise RegistryError("NAME_INVALID", {"name": name})
    return name


def parse_digest(value: str) -> Digest:
    """Parse a digest from a URL or query, refusing a malformed one with DIGEST_INVALID."""
    try:
        return Digest.parse(value)
    except InvalidDigestError as exc:
        raise RegistryError("DIGEST_INVALID", str(exc)) from exc


def is_digest_reference(reference: str) -> bool:
    """True when a manifest reference is meant as a digest (it has the algorithm separator)."""
    return ":" in reference
