"""Image references as docker splits them for the API: repository, tag or digest, and the
registry whose credentials go with a pull or push."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"


@dataclass(frozen=True)
class Reference:
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def registry(self) -> str:
        """The registry host: the first path part when it looks like a host, else docker.io."""
        first, sep, _ = self.repository.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            return first
        return DEFAULT_REGISTRY

    @property
    def version(self) -> str:
        """What goes in the API's `tag` parameter: the digest, the tag, or latest."""
        return self.digest or self.tag or DEFAULT_TAG

    def __str__(self) -> str:
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag or DEFAULT_TAG}"


def parse(reference: str) -> Reference:
    """`name[:tag][@digest]`; a colon before the last slash belongs to a registry port."""
    if not reference or reference != reference.strip() or " " in reference:
        raise ValueError(f"invalid reference format: {reference!r}")
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not tag:
            raise ValueError(f"invalid reference format: {reference!r}")
    if not name or name.lower() != name:
        raise ValueError(
            f"invalid reference format: {reference!r} (repository names must be lowercase)"
        )
    return Reference(name, tag, digest or None)
