"""The X-Registry-Auth header of pulls and pushes, from a login kept as base64(user:pass)."""

from __future__ import annotations

import base64
import json


def encode_login(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def registry_auth_header(stored: str | None, server: str) -> str:
    """base64url of {"username", "password", "serveraddress"}; `{}` without a login."""
    document: dict[str, str] = {}
    if stored:
        try:
            username, _, password = base64.b64decode(stored).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            username = password = ""
        if username:
            document = {"username": username, "password": password, "serveraddress": server}
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()
