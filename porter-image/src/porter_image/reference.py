"""Docker image references, parsed and normalised as docker/distribution's `reference` does.

    busybox                      -> docker.io/library/busybox:latest
    localhost:5000/x             -> localhost:5000/x:latest
    127.0.0.1:5000/a/b:t         -> 127.0.0.1:5000/a/b:t
    x@sha256:<64 hex>            -> docker.io/library/x@sha256:<64 hex>

The first path component is a registry host when it contains a `.` or a `:`, is `localhost`,
or has an uppercase letter (docker's `splitDockerDomain`); otherwise the name is Docker Hub's,
and a one-component Hub name lives under `library/`. A name without tag or digest gets
`latest`. `familiar()` is docker's short form, the one `docker images` shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from porter_specs.digest import Digest
from porter_specs.errors import InvalidDigestError, PorterError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})(?::[0-9]+)?")
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_PATH = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_HEX_ID = re.compile(r"[a-f0-9]{64}")


class InvalidReferenceError(PorterError, ValueError):
    """A text is not a docker image reference (`[HOST[:PORT]/]PATH[:TAG][@DIGEST]`)."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"invalid reference {text!r}: {reason}")
        self.text = text
        self.reason = reason


@dataclass(frozen=True)
class DockerReference:
    """A normalised reference: registry domain, repository path, and a tag and/or digest."""

    domain: str
    path: str
    tag: str | None = None
    digest: Digest | None = None

    @property
    def name(self) -> str:
        """The full repository name, `domain/path`."""
        return f"{self.domain}/{self.path}"

    @property
    def registry_host(self) -> str:
        """The host:port the distribution API is served on (see `api_host`)."""
        return api_host(self.domain)

    @property
    def identifier(self) -> str:
        """What the manifests endpoint is asked for: the digest when there is one, else the tag."""
        if self.digest is not None:
            return str(self.digest)
        return self.tag or DEFAULT_TAG

    def familiar_name(self) -> str:
        """The repository as docker prints it: no `docker.io/`, no `library/` on the Hub."""
        if self.domain != DOCKER_HUB:
            return self.name
        return self.path.removeprefix(OFFICIAL_PREFIX) if self.path.count("/") == 1 else self.path

    def familiar(self) -> str:
        """Docker's short form: `busybox:latest`, `alice/app@sha256:...`, `localhost:5000/x:t`."""
        return self.familiar_name() + self._suffix()

    def with_tag(self, tag: str) -> DockerReference:
        if not _TAG.fullmatch(tag):
            raise InvalidReferenceError(tag, "invalid tag format")
        return replace(self, tag=tag, digest=None)

    def _suffix(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return tag + digest

    def __str__(self) -> str:
        return self.name + self._suffix()


def api_host(domain: str) -> str:
    """The host:port registry `domain`'s distribution API is served on (Docker Hub's API
    has its own)."""
    return DOCKER_HUB_API if domain == DOCKER_HUB else domain


def is_registry_host(text: str) -> bool:
    """True when `text` is a HOST[:PORT] as a reference's domain may be."""
    return bool(_DOMAIN.fullmatch(text))


def split_domain(name: str) -> tuple[str, str]:
    """docker's splitDockerDomain: (domain, remainder), Hub names normalised."""
    first, sep, rest = name.partition("/")
    is_host = first == "localhost" or any(c in first for c in ".:") or first.lower() != first
    if not sep or not is_host:
        domain, remainder = DOCKER_HUB, name
    else:
        domain, remainder = first, rest
    if domain == "index.docker.io":
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse_docker_reference(text: str, default_tag: bool = True) -> DockerReference:
    """Parse and normalise `text`; raise InvalidReferenceError with the reason otherwise.

    With `default_tag`, a reference without tag or digest is given `latest` (docker's
    TagNameOnly); without it, such a reference names only a repository (list-tags, login).
    """
    if not isinstance(text, str) or not text:
        raise InvalidReferenceError(str(text), "empty reference")
    if _HEX_ID.fullmatch(text):
        raise InvalidReferenceError(text, "cannot specify 64-byte hexadecimal strings")
    rest, at, digest_text = text.partition("@")
    digest = _parse_digest(text, digest_text) if at else None
    name, tag = _split_tag(rest)
    if tag is not None and not _TAG.fullmatch(tag):
        raise InvalidReferenceError(text, f"invalid tag {tag!r}")
    domain, path = split_domain(name)
    if path.lower() != path:
        raise InvalidReferenceError(text, f"repository name {path!r} must be lowercase")
    if not _DOMAIN.fullmatch(domain):
        raise InvalidReferenceError(text, f"invalid registry host {domain!r}")
    if not _PATH.fullmatch(path):
        raise InvalidReferenceError(text, f"invalid repository name {path!r}")
    if len(f"{domain}/{path}") > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReferenceError(
            text, f"repository name longer than {NAME_TOTAL_LENGTH_MAX} characters"
        )
    if default_tag and tag is None and digest is None:
        tag = DEFAULT_TAG
    return DockerReference(domain, path, tag, digest)


def _split_tag(rest: str) -> tuple[str, str | None]:
    """Split `NAME[:TAG]`; a colon before the last `/` is a port, not a tag."""
    name, sep, tag = rest.rpartition(":")
    if not sep or "/" in tag:
        return rest, None
    return name, tag


def _parse_digest(text: str, digest_text: str) -> Digest:
    if not _DIGEST.fullmatch(digest_text):
        raise InvalidReferenceError(text, f"invalid digest {digest_text!r}")
    try:
        return Digest.parse(digest_text)
    except InvalidDigestError as exc:
        raise InvalidReferenceError(text, exc.reason) from exc
