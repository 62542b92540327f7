"""Bearer-token authorization as in the Docker token-auth spec, and its wiring from the config.

A request without a token gets what the policy grants anonymous clients, or a 401 whose
challenge tells the client where to get a token and for which scope:

    WWW-Authenticate: Bearer realm="https://host/token",service="registry",
                      scope="repository:team/app:pull,push"

A token is checked for signature, issuer, audience (this registry's service name) and validity
period; its `access` claim must grant every action the request needs. A valid token that lacks
one is answered 401 with `error="insufficient_scope"`, so that clients ask for a wider token
(CNCF distribution answers the same way); a bad token with `error="invalid_token"`. `/v2/`
needs any valid token. The scopes already granted within one request (a mount needs push on the
target and pull on the source) are all named in the challenge.
"""

from __future__ import annotations

import logging

import falcon

from porter_registry.access_policy import AccessPolicy
from porter_registry.actions import CATALOG
from porter_registry.basic_auth import PasswordLogin, denied_detail
from porter_registry.config import AuthConfig, ConfigError
from porter_registry.errors import RegistryError
from porter_registry.htpasswd import Htpasswd
from porter_registry.login_limiter import LoginLimiter
from porter_registry.token_endpoint import ISSUE_TOKEN, TOKEN_PATH, TokenResource
from porter_registry.tokens import (
    ALGORITHMS,
    Access,
    Claims,
    TokenError,
    TokenIssuer,
    TokenVerifier,
    algorithm_of,
    generate_key,
    load_key,
)

log = logging.getLogger("porter_registry")


def bearer_token(req: falcon.Request) -> str | None:
    header = req.get_header("Authorization")
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def scope_of(repository: str | None, actions: tuple[str, ...]) -> Access | None:
    if repository is None:
        return Access("registry", "catalog", ("*",)) if CATALOG in actions else None
    return Access("repository", repository, actions)


def _quoted(value: str) -> str:
    return value.replace("\\", "").replace('"', "")


class BearerAuthorizer:
    """The `token` kind of `[auth]`: tokens from `realm`, checked by `verifier`."""

    def __init__(
        self,
        verifier: TokenVerifier,
        policy: AccessPolicy,
        realm: str,
        service: str,
        routes: tuple[tuple[str, object], ...] = (),
    ) -> None:
        self.verifier = verifier
        self.policy = policy
        self.realm = realm
        self.service = service
        # Resources the app serves beside the API (the built-in token endpoint).
        self.routes = routes

    def challenge(
        self,
        req: falcon.Request,
        repository: str | None,
        actions: tuple[str, ...],
        error: str | None = None,
        description: str | None = None,
    ) -> RegistryError:
        realm = self.realm or f"{req.prefix}{TOKEN_PATH}"
        parts = [f'realm="{_quoted(realm)}"', f'service="{_quoted(self.service)}"']
        scopes = list(getattr(req.context, "granted_scopes", []))
        wanted = scope_of(repository, actions)
        if wanted is not None:
            scopes.append(wanted.scope())
        if scopes:
            parts.append(f'scope="{_quoted(" ".join(scopes))}"')
        if error:
            parts.append(f'error="{error}"')
        if description:
            parts.append(f'error_description="{_quoted(description)}"')
        return RegistryError(
            "UNAUTHORIZED",
            denied_detail(repository, actions),
            headers={"WWW-Authenticate": "Bearer " + ",".join(parts)},
        )

    def _granted(self, claims: Claims, repository: str | None) -> frozenset[str]:
        if repository is None:
            catalog = claims.actions_on("registry", "catalog")
            return frozenset({CATALOG}) if catalog & {"*", CATALOG} else frozenset()
        return claims.actions_on("repository", repository) | self.policy.granted(None, repository)

    def authorize(
        self, request: falcon.Request, repository: str | None, actions: tuple[str, ...]
    ) -> None:
        if actions == (ISSUE_TOKEN,):
            return  # the token endpoint checks its own credentials
        token = bearer_token(request)
        if token is None:
            if actions and self.policy.allows(None, repository, actions):
                return
            raise self.challenge(request, repository, actions)
        try:
            claims = self.verifier.verify(token)
        except TokenError as exc:
            raise self.challenge(request, repository, actions, "invalid_token", str(exc)) from exc
        if not set(actions) <= self._granted(claims, repository):
            raise self.challenge(request, repository, actions, "insufficient_scope")
        wanted = scope_of(repository, actions)
        if wanted is not None:
            if not hasattr(request.context, "granted_scopes"):
                request.context.granted_scopes = []
            request.context.granted_scopes.append(wanted.scope())


def build_bearer_authorizer(auth: AuthConfig) -> BearerAuthorizer:
    """With a private key (or none: one is generated), the registry issues tokens itself at
    `/token`; with only a public key or certificate, it trusts the issuer at `token_realm`."""
    if auth.token_algorithm not in ALGORITHMS:
        raise ConfigError(
            f"auth.token_algorithm {auth.token_algorithm!r}: use one of {', '.join(ALGORITHMS)}"
        )
    policy = AccessPolicy(auth.policy, auth.groups)
    key = load_key(auth.token_key) if auth.token_key else None
    if key is not None and algorithm_of(key) != auth.token_algorithm:
        raise ConfigError(
            f"auth.token_key {auth.token_key}: a {algorithm_of(key)} key, but "
            f"auth.token_algorithm is {auth.token_algorithm}"
        )
    private = key if key is not None and hasattr(key, "sign") else None
    if key is not None and private is None:
        if not auth.token_realm:
            raise ConfigError("auth.token_realm: a public token key needs the issuer's URL")
        verifier = TokenVerifier([key], auth.token_issuer, auth.token_service)  # type: ignore[list-item]
        return BearerAuthorizer(verifier, policy, auth.token_realm, auth.token_service)
    if private is None:
        log.warning("auth.token_key not set: signing tokens with a key generated for this run")
        private = generate_key(auth.token_algorithm)
    issuer = TokenIssuer(private, auth.token_issuer)  # type: ignore[arg-type]
    verifier = TokenVerifier([private.public_key()], auth.token_issuer, auth.token_service)  # type: ignore[union-attr]
    users = Htpasswd(auth.htpasswd) if auth.htpasswd else None
    login = PasswordLogin(users, LoginLimiter(auth.login_attempts_per_minute))
    endpoint = TokenResource(
        issuer, verifier, login, policy, auth.token_service, auth.token_expiration_seconds
    )
    return BearerAuthorizer(
        verifier, policy, auth.token_realm, auth.token_service, ((TOKEN_PATH, endpoint),)
    )
