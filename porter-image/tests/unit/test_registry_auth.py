"""Bearer tokens: asked once per set of scopes, again when a scope widens or a token expires."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from porter_image.distribution.auth import Authenticator, Credentials
from porter_image.distribution.errors import RegistryError, RegistryUnauthorizedError

CHALLENGE = 'Bearer realm="https://auth.example/token",service="registry"'


@dataclass
class FakeResponse:
    """The parts of a session's Response that the authenticator reads."""

    status_code: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


class FakeTokenSession:
    """Answers token requests with numbered tokens, recording each request's params."""

    def __init__(self, body: Any = None, status: int = 200) -> None:
        self.asked: list[list[tuple[str, str]]] = []
        self.body = body
        self.status = status

    def request(
        self, method: str, url: str, params: list[tuple[str, str]], **_: Any
    ) -> FakeResponse:
        self.asked.append(params)
        body = self.body or {"token": f"t{len(self.asked)}", "expires_in": 300}
        return FakeResponse(
            self.status, body if isinstance(body, bytes) else json.dumps(body).encode()
        )


def authenticator(
    session: FakeTokenSession, credentials: Credentials | None = None
) -> Authenticator:
    auth = Authenticator(session, "registry.example", credentials, 5)  # type: ignore[arg-type]
    challenge = FakeResponse(401, headers={"WWW-Authenticate": CHALLENGE})
    assert auth.learn(challenge)  # type: ignore[arg-type]
    return auth


def test_a_token_is_asked_once_per_scope_set() -> None:
    session = FakeTokenSession()
    auth = authenticator(session)
    pull = ("repository:a:pull",)
    assert auth.header(pull) == auth.header(pull) == "Bearer t1"
    assert session.asked == [[("service", "registry"), ("scope", "repository:a:pull")]]


def test_a_wider_scope_asks_for_a_new_token() -> None:
    session = FakeTokenSession()
    auth = authenticator(session)
    auth.header(("repository:a:pull",))
    assert auth.header(("repository:a:pull,push", "repository:b:pull")) == "Bearer t2"
    assert ("scope", "repository:b:pull") in session.asked[1]


def test_an_expired_token_is_asked_again() -> None:
    session = FakeTokenSession({"token": "short", "expires_in": 1})
    auth = authenticator(session)
    auth.header(("repository:a:pull",))
    auth.header(("repository:a:pull",))
    assert len(session.asked) == 2  # within the renewal margin, so never sent as it runs out


def test_a_token_endpoint_refusing_credentials_is_unauthorized() -> None:
    auth = authenticator(FakeTokenSession(status=401), Credentials("alice", "wrong"))
    with pytest.raises(RegistryUnauthorizedError, match="credentials were refused"):
        auth.header(("repository:a:pull",))


@pytest.mark.parametrize("body", [b"<html>", {"nothing": 1}, {"token": "has space"}, [1]])
def test_a_garbage_token_answer_is_one_clear_error(body: Any) -> None:
    auth = authenticator(FakeTokenSession(body))
    with pytest.raises(RegistryError, match=r"token endpoint https://auth\.example/token"):
        auth.header(("repository:a:pull",))
