"""The built-in token endpoint of the Docker token-auth spec, at `/token`.

    GET /token?service=porter-registry&scope=repository:team/app:pull,push
    Authorization: Basic ...            (absent: an anonymous token)

answers `{"token", "access_token", "expires_in", "issued_at"}`: a JWT granting, of the actions
asked for, those the access policy allows this user (possibly none; the registry then refuses
the request, not the endpoint). A wrong password is 401 and counts toward the failed-login
limit. The OAuth2 form of the spec is answered too: `POST /token` with `grant_type=password`
(username, password) or `grant_type=refresh_token`, and `access_type=offline` for a refresh
token, which is a JWT of its own that grants no access.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import falcon

from porter_registry.access_policy import REPOSITORY_ACTIONS, AccessPolicy
from porter_registry.basic_auth import PasswordLogin, basic_credentials
from porter_registry.errors import RegistryError
from porter_registry.names import is_valid_name
from porter_registry.tokens import Access, TokenError, TokenIssuer, TokenVerifier, parse_scope

TOKEN_PATH = "/token"
# The action the token endpoint declares: authorizers let it through, it checks credentials.
ISSUE_TOKEN = "issue-token"
REFRESH_SECONDS = 24 * 3600
_MAX_FORM_BYTES = 64 * 1024
_MAX_SCOPES = 32


def _bad_request(detail: str) -> RegistryError:
    return RegistryError("DENIED", detail, status=400)


def _requested_scopes(values: list[str]) -> list[Access]:
    scopes = [s for value in values for s in value.split(" ") if s]
    if len(scopes) > _MAX_SCOPES:
        raise _bad_request(f"{len(scopes)} scopes asked for; at most {_MAX_SCOPES}")
    try:
        return [parse_scope(s) for s in scopes]
    except TokenError as exc:
        raise _bad_request(str(exc)) from exc


class TokenResource:
    """Issues tokens for the registry's own service name."""

    def __init__(
        self,
        issuer: TokenIssuer,
        verifier: TokenVerifier,
        login: PasswordLogin,
        policy: AccessPolicy,
        service: str,
        expires_in: int,
    ) -> None:
        self.issuer = issuer
        self.verifier = verifier
        self.login = login
        self.policy = policy
        self.service = service
        self.expires_in = max(expires_in, 1)

    def required_actions(self, method: str) -> tuple[str, ...]:
        return (ISSUE_TOKEN,)

    def _grant(self, user: str | None, wanted: Access) -> Access | None:
        actions = set(wanted.actions)
        if "*" in actions:
            actions = (actions - {"*"}) | REPOSITORY_ACTIONS
        if wanted.type == "repository" and is_valid_name(wanted.name):
            allowed = actions & self.policy.granted(user, wanted.name)
            return Access("repository", wanted.name, tuple(sorted(allowed))) if allowed else None
        if (wanted.type, wanted.name) == ("registry", "catalog") and self.policy.allows_catalog(
            user
        ):
            return Access("registry", "catalog", ("*",))
        return None

    def _check_service(self, service: str | None) -> None:
        if service and service != self.service:
            raise _bad_request(f"unknown service {service!r}; this is {self.service!r}")

    def _authenticate(self, req: falcon.Request, user: str, password: str) -> str:
        if not self.login.login(req, user, password):
            raise RegistryError(
                "UNAUTHORIZED",
                f"wrong user name or password for {user!r}",
                headers={"WWW-Authenticate": f'Basic realm="{self.service}"'},
            )
        return user

    def _issue(self, user: str | None, scopes: list[Access]) -> tuple[str, list[Access]]:
        granted = [g for g in (self._grant(user, s) for s in scopes) if g is not None]
        token = self.issuer.issue(user or "", self.service, granted, self.expires_in)
        return token, granted

    def _answer(self, resp: falcon.Response, body: dict[str, Any]) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.set_header("Cache-Control", "no-store")
        resp.data = json.dumps(body).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._check_service(req.get_param("service"))
        scopes = _requested_scopes(req.get_param_as_list("scope") or [])
        credentials = basic_credentials(req)
        user = self._authenticate(req, *credentials) if credentials else None
        token, _ = self._issue(user, scopes)
        issued_at = datetime.fromtimestamp(self.issuer.clock(), UTC)
        self._answer(
            resp,
            {
                "token": token,
                "access_token": token,
                "expires_in": self.expires_in,
                "issued_at": issued_at.isoformat().replace("+00:00", "Z"),
            },
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = _read_form(req)
        self._check_service(form.get("service"))
        grant_type = form.get("grant_type", "")
        if grant_type == "password":
            user = self._authenticate(req, form.get("username", ""), form.get("password", ""))
        elif grant_type == "refresh_token":
            user = self._refreshed_user(form.get("refresh_token", ""))
        else:
            raise _bad_request(f"grant_type {grant_type!r}: use password or refresh_token")
        token, granted = self._issue(user, _requested_scopes([form.get("scope", "")]))
        body: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": " ".join(g.scope() for g in granted),
            "issued_at": datetime.fromtimestamp(self.issuer.clock(), UTC)
            .isoformat()
            .replace("+00:00", "Z"),
        }
        if form.get("access_type") == "offline" or grant_type == "refresh_token":
            body["refresh_token"] = self.issuer.issue(
                user, self.service, (), REFRESH_SECONDS, use="refresh"
            )
        self._answer(resp, body)

    def _refreshed_user(self, refresh_token: str) -> str:
        try:
            claims = self.verifier.verify(refresh_token)
        except TokenError as exc:
            raise RegistryError("UNAUTHORIZED", f"refresh token refused: {exc}") from exc
        if claims.extra.get("use") != "refresh" or not claims.subject:
            raise RegistryError("UNAUTHORIZED", "not a refresh token")
        users = self.login.users
        if users is None or claims.subject not in users.users():
            raise RegistryError("UNAUTHORIZED", f"user {claims.subject!r} no longer exists")
        return claims.subject


def _read_form(req: falcon.Request) -> dict[str, str]:
    """The url-encoded form, bounded in size; only the first value of each field counts."""
    if req.content_type is None or "x-www-form-urlencoded" not in req.content_type.lower():
        raise _bad_request("POST /token takes an application/x-www-form-urlencoded form")
    raw = req.bounded_stream.read(_MAX_FORM_BYTES + 1)
    if len(raw) > _MAX_FORM_BYTES:
        raise _bad_request(f"form larger than {_MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad_request("form is not valid url-encoded UTF-8") from exc
    return {key: values[0] for key, values in fields.items()}
