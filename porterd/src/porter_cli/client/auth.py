"""The X-Registry-Auth header of pulls and pushes (and X-Registry-Config of builds), from
logins kept as base64(user:pass)."""

from __future__ import annotations

import base64
import json


def encode_login(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def registry_auth_header(stored: str | None, server: str) -> str:
    """base64url of {"username", "password", "serveraddress"}; `{}` without a login."""
    return encode_header(login_document(stored, server))


def registry_config_header(auths: dict[str, str]) -> str:
    """X-Registry-Config (builds): base64url of {server: login document} for every login in
    `auths` (server -> base64(user:pass))."""
    documents = {server: login_document(stored, server) for server, stored in auths.items()}
    return encode_header({server: doc for server, doc in documents.items() if doc})


def login_document(stored: str | None, server: str) -> dict[str, str]:
    """{"username", "password", "serveraddress"} of a login kept as base64(user:pass); {}
    without one."""
    if not stored:
        return {}
    try:
        username, _, password = base64.b64decode(stored).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return {}
    if not username:
        return {}
    return {"username": username, "password": password, "serveraddress": server}


def encode_header(document: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()
