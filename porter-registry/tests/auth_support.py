"""Helpers of the auth tests: real htpasswd files, a policy with three kinds of user, clients."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from falcon import testing
from porter_registry.app import create_app
from porter_registry.config import build_config
from porter_registry.from_config import build_authorizer
from porter_registry.registry import Registry

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}
# alice may push to team/*, bob only pull it; anyone may pull public/*; secret/* is alice's.
POLICY = [
    {"repository": "team/*", "users": ["@writers"], "actions": ["pull", "push", "delete"]},
    {"repository": "team/*", "users": ["bob"], "actions": ["pull"]},
    {"repository": "public/*", "users": ["*"], "actions": ["*"], "anonymous": ["pull"]},
    {"repository": "secret/*", "users": ["alice"], "actions": ["pull", "push"]},
    {"repository": "*", "users": ["alice"], "actions": ["catalog"]},
]
GROUPS = ["writers=alice"]


def write_htpasswd(path: Path, users: dict[str, str] = PASSWORDS) -> Path:
    """An htpasswd file as `htpasswd -B` writes it (bcrypt, `$2y$`)."""
    binary = shutil.which("htpasswd")
    if binary is None:
        pytest.skip("htpasswd (apache2-utils) is not installed")
    create = ["-c"]
    for user, password in users.items():
        subprocess.run(
            [binary, "-B", "-b", *create, str(path), user, password],
            check=True,
            capture_output=True,
        )
        create = []
    return path


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def auth_document(kind: str, htpasswd: Path, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "htpasswd": str(htpasswd), "policy": POLICY, "groups": GROUPS, **extra}


def auth_client(registry: Registry, document: dict[str, Any]) -> testing.TestClient:
    config = build_config({"auth": document})
    return testing.TestClient(create_app(registry, build_authorizer(config.auth)))


def get_token(client: testing.TestClient, scope: str, headers: dict[str, str] | None = None) -> str:
    response = client.simulate_get(
        "/token", params={"service": "porter-registry", "scope": scope}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    return response.json["token"]


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="..."` -> ("Bearer", {"realm": ..., "service": ...})."""
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    for part in _split_params(rest):
        key, _, value = part.partition("=")
        params[key.strip()] = value.strip().strip('"')
    return scheme, params


def _split_params(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current] if current else parts


class WithHeaders:
    """A falcon test client that adds headers to every call (to push through `Pusher`)."""

    def __init__(self, client: testing.TestClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def __getattr__(self, name: str) -> Any:
        call = getattr(self.client, name)

        def with_headers(*args: Any, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
            return call(*args, headers={**self.headers, **(headers or {})}, **kwargs)

        return with_headers
