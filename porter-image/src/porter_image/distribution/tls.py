"""TLS settings per registry host, as docker reads them from `/etc/docker/certs.d/HOST:PORT/`.

`*.crt` files there are extra CAs (added to the system's, not replacing them); a
`client.cert` with its `client.key` is presented as the client certificate.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

DOCKER_CERTS_D = Path("/etc/docker/certs.d")
# host folder -> the bundle made for it in this process (removed at exit)
_BUNDLES: dict[Path, str] = {}


@dataclass(frozen=True)
class TlsSettings:
    """What a session needs: `verify` (True, False or a CA bundle path) and a client `cert`."""

    verify: bool | str
    cert: tuple[str, str] | None


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (docker treats 127.0.0.0/8 as insecure)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def tls_settings(host: str, verify: bool, certs_root: Path = DOCKER_CERTS_D) -> TlsSettings:
    """The TLS settings for `host` (HOST or HOST:PORT), its certs.d folder included."""
    folder = certs_root / host
    cert = _client_cert(folder)
    if not verify:
        return TlsSettings(False, cert)
    cas = sorted(folder.glob("*.crt")) if folder.is_dir() else []
    if not cas:
        return TlsSettings(True, cert)
    bundle = _BUNDLES.get(folder)
    if bundle is None:
        bundle = _BUNDLES[folder] = _bundle_with_system_cas(host, cas)
    return TlsSettings(bundle, cert)


def _client_cert(folder: Path) -> tuple[str, str] | None:
    cert, key = folder / "client.cert", folder / "client.key"
    if cert.is_file() and key.is_file():
        return str(cert), str(key)
    return None


def _system_bundle() -> str | None:
    """The system's CA bundle; else the one requests carries (certifi's)."""
    for candidate in (ssl.get_default_verify_paths().cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return candidate
    from requests.certs import where

    bundle: str = where()
    return bundle if Path(bundle).is_file() else None


def _bundle_with_system_cas(host: str, cas: list[Path]) -> str:
    """One PEM file holding the system's CAs and the host's (the session takes one path)."""
    parts = []
    system = _system_bundle()
    if system:
        parts.append(Path(system).read_text(errors="replace"))
    parts += [ca.read_text(errors="replace") for ca in cas]
    safe = host.replace("/", "_").replace(":", "_")
    with tempfile.NamedTemporaryFile(
        "w", prefix=f"porter-image-ca-{safe}-", suffix=".pem", delete=False
    ) as bundle:
        bundle.write("\n".join(parts))
    atexit.register(_remove, bundle.name)
    return bundle.name


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
