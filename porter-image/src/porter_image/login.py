"""Log in to a registry: check credentials against it, then store them (see `credentials`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from porter_image.credentials import erase_credentials, store_credentials
from porter_image.distribution.auth import Credentials
from porter_image.distribution.client import RegistryClient, RegistryOptions
from porter_image.errors import ImageRefError
from porter_image.reference import DOCKER_HUB, api_host, is_registry_host


def registry_host(text: str) -> str:
    """`HOST[:PORT]` from what a user types after `login` (a URL or `docker.io` allowed)."""
    host = text.split("://", 1)[-1].split("/", 1)[0]
    if not is_registry_host(host):
        raise ImageRefError(text, "expected a registry HOST[:PORT]")
    return DOCKER_HUB if host == "index.docker.io" else host


def check_login(host: str, credentials: Credentials, options: RegistryOptions) -> None:
    """Raise RegistryUnauthorizedError unless the registry accepts `credentials`."""
    options = replace(options, credentials=credentials, stored_credentials=False)
    with RegistryClient(api_host(host), options) as client:
        response = client.request("GET", "/v2/", ())
        if response.status_code != 200:
            raise client.error(response, f"login to {host}")


def login(host: str, credentials: Credentials, options: RegistryOptions) -> Path | str:
    """Check, then store; returns where the credentials went."""
    check_login(host, credentials, options)
    return store_credentials(host, credentials)


def logout(host: str) -> bool:
    return erase_credentials(host)
