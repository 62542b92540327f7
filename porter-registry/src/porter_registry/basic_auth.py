"""HTTP Basic authentication against an htpasswd file, with the access policy applied.

`GET /v2/` needs a valid login (clients probe it to learn that they must log in). Repository
requests without credentials get what the policy grants anonymous clients; with credentials,
a wrong password is 401 (and counts toward the login limit), a right one lacking the action is
403 DENIED. Every 401 carries `WWW-Authenticate: Basic realm="..."`.
"""

from __future__ import annotations

import base64
import binascii

import falcon

from porter_registry.access_policy import AccessPolicy
from porter_registry.config import AuthConfig, ConfigError
from porter_registry.errors import RegistryError
from porter_registry.htpasswd import Htpasswd
from porter_registry.login_limiter import LoginLimiter


def client_address(req: falcon.Request) -> str:
    """The peer's address (behind the TLS frontend every peer is the local unix socket)."""
    return req.remote_addr or "local"


def basic_credentials(req: falcon.Request) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic` header; None without one, or when it is
    garbled or names no user (clients without credentials send `Basic Og==`, an empty pair):
    such a request is anonymous, which never grants more than no header would."""
    header = req.get_header("Authorization")
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    return (user, password) if user else None


def denied_detail(repository: str | None, actions: tuple[str, ...]) -> list[dict[str, str]]:
    """CNCF distribution's error detail: which resource and actions were refused."""
    if repository is None:
        return [{"Type": "registry", "Name": "catalog", "Action": "*"}] if actions else []
    return [{"Type": "repository", "Name": repository, "Action": a} for a in actions]


class PasswordLogin:
    """Checks a user's password, under the failed-login limit."""

    def __init__(self, users: Htpasswd | None, limiter: LoginLimiter) -> None:
        self.users = users
        self.limiter = limiter

    def login(self, req: falcon.Request, user: str, password: str) -> bool:
        """True for a right password; raises TOOMANYREQUESTS once the limit is reached."""
        address = client_address(req)
        self.limiter.check(address, user)
        if self.users is not None and user and self.users.verify(user, password):
            self.limiter.succeeded(address, user)
            return True
        self.limiter.failed(address, user)
        return False


class BasicAuthorizer:
    """The `htpasswd` kind of `[auth]`."""

    def __init__(self, login: PasswordLogin, policy: AccessPolicy, realm: str) -> None:
        self.login = login
        self.policy = policy
        self.realm = realm

    def _unauthorized(self, repository: str | None, actions: tuple[str, ...]) -> RegistryError:
        realm = self.realm.replace('"', "")
        return RegistryError(
            "UNAUTHORIZED",
            denied_detail(repository, actions),
            headers={"WWW-Authenticate": f'Basic realm="{realm}",charset="UTF-8"'},
        )

    def authorize(
        self, request: falcon.Request, repository: str | None, actions: tuple[str, ...]
    ) -> None:
        credentials = basic_credentials(request)
        if credentials is None:
            if actions and self.policy.allows(None, repository, actions):
                return
            raise self._unauthorized(repository, actions)
        user, password = credentials
        if not self.login.login(request, user, password):
            raise self._unauthorized(repository, actions)
        if self.policy.allows(user, repository, actions):
            return
        raise RegistryError("DENIED", denied_detail(repository, actions))


def build_basic_authorizer(auth: AuthConfig) -> BasicAuthorizer:
    if not auth.htpasswd:
        raise ConfigError("auth.htpasswd: the htpasswd kind needs a users file")
    login = PasswordLogin(Htpasswd(auth.htpasswd), LoginLimiter(auth.login_attempts_per_minute))
    return BasicAuthorizer(login, AccessPolicy(auth.policy, auth.groups), auth.realm)
