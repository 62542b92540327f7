"""Registry auth as docker does it: Basic, or the distribution token spec's Bearer flow.

A registry says how to authenticate in the `WWW-Authenticate` header of a 401. For `Basic`,
the credentials go with every request. For `Bearer`, a token is asked of the `realm` for the
`service` and the scopes a request needs (`repository:NAME:pull,push`), with the credentials
as Basic auth or without any (an anonymous token); it is kept per set of scopes until it
expires, and asked again when a request needs a wider scope.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from porter_image.distribution.errors import RegistryError, RegistryUnauthorizedError
from porter_image.distribution.session import TRANSPORT_ERRORS

if TYPE_CHECKING:
    from porter_image.distribution.response import Response
    from porter_image.distribution.session import HttpSession

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')
# A token without `expires_in` is good for 60 seconds (the token spec's default).
DEFAULT_TOKEN_LIFETIME = 60.0
# Renew this long before a token expires, so that one is never sent as it runs out.
EXPIRY_MARGIN = 5.0


@dataclass(frozen=True)
class Credentials:
    """A user name and password, or an identity token (an OAuth2 refresh token, as docker
    keeps in `identitytoken` after logging in to registries that issue one)."""

    username: str
    password: str = field(repr=False)
    identity_token: str = field(default="", repr=False)

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class Challenge:
    """One parsed `WWW-Authenticate` challenge."""

    scheme: str
    params: dict[str, str]

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.params.get("scope", "").split())


def parse_challenge(header: str) -> Challenge | None:
    """The challenge of a `WWW-Authenticate` header (`Bearer realm="...",service="..."`)."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None or match.end() == position:
            break
        quoted, bare = match.group(2), match.group(3)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        params[match.group(1).lower()] = value
        position = match.end()
    return Challenge(scheme.lower(), params)


def repository_scope(repository: str, *actions: str) -> str:
    return f"repository:{repository}:{','.join(actions)}"


@dataclass
class _Token:
    value: str
    expires: float


class Authenticator:
    """Authorization headers for one registry host, learnt from its challenges."""

    def __init__(
        self,
        session: HttpSession,
        host: str,
        credentials: Credentials | None,
        timeout: float,
    ) -> None:
        self._session = session
        self._host = host
        self._credentials = credentials
        self._timeout = timeout
        self._challenge: Challenge | None = None
        self._tokens: dict[frozenset[str], _Token] = {}
        self._lock = threading.Lock()

    def learn(self, response: Response) -> bool:
        """Take the challenge of a 401; False when it offers nothing to try."""
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None or challenge.scheme not in ("basic", "bearer"):
            return False
        with self._lock:
            self._challenge = challenge
        return challenge.scheme == "bearer" or self._credentials is not None

    def forget(self, scopes: tuple[str, ...]) -> None:
        with self._lock:
            self._tokens.pop(frozenset(scopes), None)

    def header(self, scopes: tuple[str, ...]) -> str | None:
        """The Authorization header for a request needing `scopes`, fetching a token if need be."""
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return self._credentials.basic_header() if self._credentials else None
        key = frozenset(scopes)
        with self._lock:
            token = self._tokens.get(key)
            if token is None or token.expires - EXPIRY_MARGIN < time.monotonic():
                token = self._fetch_token(challenge, scopes)
                self._tokens[key] = token
        return f"Bearer {token.value}"

    def _fetch_token(self, challenge: Challenge, scopes: tuple[str, ...]) -> _Token:
        realm = challenge.params.get("realm", "")
        where = f"token endpoint {realm or '(none)'} of {self._host}"
        if not realm.startswith(("https://", "http://")):
            raise RegistryError(where, "the registry's challenge names no usable realm")
        params: list[tuple[str, str]] = []
        if challenge.params.get("service"):
            params.append(("service", challenge.params["service"]))
        params += [("scope", scope) for scope in dict.fromkeys(scopes)]
        if self._credentials is not None and self._credentials.identity_token:
            return self._refresh(where, realm, challenge, scopes)
        headers = {}
        if self._credentials is not None:
            headers["Authorization"] = self._credentials.basic_header()
        try:
            response = self._session.request(
                "GET", realm, params=params, headers=headers, timeout=self._timeout
            )
        except TRANSPORT_ERRORS as exc:
            raise RegistryError(where, f"cannot be reached: {exc}") from exc
        _check_token_status(where, response)
        return _parse_token(where, response)

    def _refresh(
        self, where: str, realm: str, challenge: Challenge, scopes: tuple[str, ...]
    ) -> _Token:
        """The OAuth2 form of the token spec: POST the identity token as a refresh token."""
        assert self._credentials is not None
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._credentials.identity_token,
            "service": challenge.params.get("service", ""),
            "scope": " ".join(dict.fromkeys(scopes)),
            "client_id": "porter-image",
        }
        try:
            response = self._session.request(
                "POST",
                realm,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                body=urlencode(form).encode(),
                timeout=self._timeout,
            )
        except TRANSPORT_ERRORS as exc:
            raise RegistryError(where, f"cannot be reached: {exc}") from exc
        _check_token_status(where, response)
        return _parse_token(where, response)


def _check_token_status(where: str, response: Response) -> None:
    if response.status_code in (400, 401, 403):
        raise RegistryUnauthorizedError(
            where, "unauthorized: the credentials were refused", response.status_code
        )
    if response.status_code != 200:
        raise RegistryError(where, f"answered HTTP {response.status_code}")


def _parse_token(where: str, response: Response) -> _Token:
    try:
        document: Any = response.json()
    except ValueError:
        raise RegistryError(where, "answered something that is not JSON") from None
    if not isinstance(document, dict):
        raise RegistryError(where, "answered JSON that is not an object")
    value = document.get("token") or document.get("access_token")
    if not isinstance(value, str) or not value or any(c in value for c in "\r\n "):
        raise RegistryError(where, "answered no usable token")
    lifetime = document.get("expires_in")
    if not isinstance(lifetime, (int, float)) or lifetime <= 0:
        lifetime = DEFAULT_TOKEN_LIFETIME
    return _Token(value, time.monotonic() + float(lifetime))
