"""Registry credentials where docker and podman keep them.

Read, first found wins:
1. `${DOCKER_CONFIG:-~/.docker}/config.json`: `credHelpers[host]`, then `auths[host]` (the
   base64 `auth` of `user:password`), then `credsStore`; a helper is the program
   `docker-credential-NAME`, spoken to by its protocol (`get` with the server on stdin, a
   JSON `{"Username", "Secret"}` on stdout); an `identitytoken` (or a helper's `<token>`
   user) is an OAuth2 refresh token, sent to the registry's token endpoint as one;
2. `${REGISTRY_AUTH_FILE}` or `${XDG_RUNTIME_DIR}/containers/auth.json`, podman's `auths`.

`store_credentials` (login) writes where docker would: the host's helper or `credsStore`
when configured, else `auths` in config.json, which is kept at mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from porter_specs.errors import PorterError

from porter_image.distribution.auth import Credentials
from porter_image.layout.atomic import write_file_atomic

DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "docker.io", "index.docker.io")
HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")
# The user name docker writes beside an identity token
TOKEN_USER = "<token>"


class CredentialsError(PorterError):
    """A credentials file or helper cannot be read or written."""

    def __init__(self, where: object, reason: str) -> None:
        super().__init__(f"{where}: {reason}")


def docker_config_path() -> Path:
    folder = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    return Path(folder) / "config.json"


def podman_auth_path() -> Path | None:
    if os.environ.get("REGISTRY_AUTH_FILE"):
        return Path(os.environ["REGISTRY_AUTH_FILE"])
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "containers" / "auth.json" if runtime else None


def find_credentials(host: str) -> Credentials | None:
    """The stored credentials for registry `host` (HOST[:PORT]), or None."""
    path = docker_config_path()
    config = _read(path)
    helper = (config.get("credHelpers") or {}).get(host)
    if helper:
        return helper_get(helper, host)
    found = _from_auths(config, host, path)
    if found is not None:
        return found
    if config.get("credsStore"):
        found = helper_get(config["credsStore"], _server_url(host))
        if found is not None:
            return found
    podman = podman_auth_path()
    return _from_auths(_read(podman), host, podman) if podman else None


def store_credentials(host: str, credentials: Credentials) -> Path | str:
    """Remember `credentials` for `host`; returns where (a file, or a helper's name)."""
    path = docker_config_path()
    config = _read(path)
    helper = (config.get("credHelpers") or {}).get(host) or config.get("credsStore")
    if helper:
        payload = {
            "ServerURL": _server_url(host),
            "Username": credentials.username,
            "Secret": credentials.password,
        }
        _run_helper(helper, "store", json.dumps(payload))
        return f"docker-credential-{helper}"
    raw = f"{credentials.username}:{credentials.password}".encode()
    auths = config.setdefault("auths", {})
    auths[_server_url(host)] = {"auth": base64.b64encode(raw).decode("ascii")}
    _write(path, config)
    return path


def erase_credentials(host: str) -> bool:
    """Forget the credentials for `host`; False when none were stored."""
    path = docker_config_path()
    config = _read(path)
    helper = (config.get("credHelpers") or {}).get(host) or config.get("credsStore")
    if helper and helper_get(helper, _server_url(host)) is not None:
        _run_helper(helper, "erase", _server_url(host))
        return True
    auths = config.get("auths") or {}
    keys = [k for k in auths if _host_of_key(k) in _aliases(host)]
    for key in keys:
        del auths[key]
    if keys:
        _write(path, config)
    return bool(keys)


def helper_get(helper: str, server: str) -> Credentials | None:
    """Ask `docker-credential-HELPER get` for `server`; None when it has nothing."""
    completed = _run_helper(helper, "get", server, allow_failure=True)
    if completed is None:
        return None
    try:
        answer = json.loads(completed)
        username, secret = answer["Username"], answer["Secret"]
    except (ValueError, KeyError, TypeError):
        raise CredentialsError(f"docker-credential-{helper}", "answered no credentials") from None
    if not isinstance(username, str) or not isinstance(secret, str):
        raise CredentialsError(f"docker-credential-{helper}", "answered no credentials")
    if username == TOKEN_USER:  # the helper holds an identity token, as docker stores it
        return Credentials(username, "", secret)
    return Credentials(username, secret)


def _run_helper(helper: str, action: str, data: str, allow_failure: bool = False) -> str | None:
    program = f"docker-credential-{helper}"
    try:
        completed = subprocess.run(
            [program, action], input=data.encode(), capture_output=True, timeout=60, check=False
        )
    except FileNotFoundError:
        raise CredentialsError(program, "credential helper not found in PATH") from None
    if completed.returncode != 0:
        message = (completed.stdout or completed.stderr).decode(errors="replace").strip()
        if allow_failure:
            return None
        raise CredentialsError(program, f"{action} failed: {message or completed.returncode}")
    return completed.stdout.decode(errors="replace")


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CredentialsError(path, f"cannot be read: {exc}") from exc
    if not isinstance(document, dict):
        raise CredentialsError(path, "is not a JSON object")
    return document


def _write(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_file_atomic(path, (json.dumps(config, indent="\t") + "\n").encode(), mode=0o600)


def _from_auths(config: dict[str, Any], host: str, path: Path) -> Credentials | None:
    auths = config.get("auths") or {}
    if not isinstance(auths, dict):
        raise CredentialsError(path, "auths is not an object")
    for key, entry in auths.items():
        if _host_of_key(key) not in _aliases(host) or not isinstance(entry, dict):
            continue
        if isinstance(entry.get("identitytoken"), str) and entry["identitytoken"]:
            user = _decode(entry["auth"], path, key).username if entry.get("auth") else ""
            return Credentials(user or TOKEN_USER, "", entry["identitytoken"])
        if entry.get("auth"):
            return _decode(entry["auth"], path, key)
    return None


def _decode(auth: str, path: Path, key: str) -> Credentials:
    try:
        user, sep, password = base64.b64decode(auth, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        sep = ""
    if not sep:
        raise CredentialsError(path, f"auths[{key!r}].auth is not base64 of user:password")
    return Credentials(user, password)


def _aliases(host: str) -> tuple[str, ...]:
    return HUB_HOSTS if host in HUB_HOSTS else (host,)


def _host_of_key(key: str) -> str:
    """`https://host:5000/v1/` -> `host:5000`, as docker matches auths keys."""
    bare = key.split("://", 1)[-1]
    return bare.split("/", 1)[0]


def _server_url(host: str) -> str:
    """The key docker files a host's credentials under (Docker Hub's is its v1 URL)."""
    return DOCKER_HUB_KEYS[0] if host in HUB_HOSTS else host
