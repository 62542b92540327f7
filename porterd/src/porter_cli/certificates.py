"""A small CA and its certificates for mutual TLS between porter and porterd: EC P-256 keys,
a CA allowed to sign only, a server certificate for the daemon's names and addresses
(serverAuth) and a client certificate (clientAuth)."""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path
from typing import Any

from porter_cli.errors import CliError

FILES = ("ca.pem", "ca-key.pem", "server-cert.pem", "server-key.pem", "cert.pem", "key.pem")


def make_certificates(
    hostnames: tuple[str, ...], addresses: tuple[str, ...], days: int
) -> dict[str, bytes]:
    """The six PEM files by name."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from porter_specs import certificates as certs

    try:
        ips = [ipaddress.ip_address(address) for address in addresses]
    except ValueError as error:
        raise CliError(f"invalid --ip: {error}") from error
    lifetime = datetime.timedelta(days=days)
    ca_key, server_key, client_key = (certs.new_key() for _ in range(3))
    ca_name = certs.name("porter", "porter CA")
    ca = certs.certificate(ca_name, ca_key, ca_name, ca_key, lifetime, certs.ca_extensions())
    names = [x509.DNSName(name) for name in hostnames] + [x509.IPAddress(ip) for ip in ips]

    def leaf(subject: str, key: Any, purpose: Any, extra: list[tuple[Any, bool]]) -> Any:
        """A certificate signed by the CA for one purpose (serverAuth or clientAuth)."""
        extensions = [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (certs.key_usage(digital_signature=True, key_agreement=True), True),
            (x509.ExtendedKeyUsage([purpose]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
            *extra,
        ]
        subject_name = certs.name("porter", subject)
        return certs.certificate(subject_name, key, ca_name, ca_key, lifetime, extensions)

    server_subject = hostnames[0] if hostnames else str(ips[0])
    server = leaf(
        server_subject,
        server_key,
        ExtendedKeyUsageOID.SERVER_AUTH,
        [(x509.SubjectAlternativeName(names), False)],
    )
    client = leaf("porter client", client_key, ExtendedKeyUsageOID.CLIENT_AUTH, [])
    return {
        "ca.pem": certs.certificate_pem(ca),
        "ca-key.pem": certs.key_pem(ca_key),
        "server-cert.pem": certs.certificate_pem(server),
        "server-key.pem": certs.key_pem(server_key),
        "cert.pem": certs.certificate_pem(client),
        "key.pem": certs.key_pem(client_key),
    }


def write_certificates(
    directory: Path, hostnames: tuple[str, ...], addresses: tuple[str, ...], days: int, force: bool
) -> list[Path]:
    """Write the files (keys 0600, certificates 0644); existing files are kept unless `force`."""
    existing = [directory / name for name in FILES if (directory / name).exists()]
    if existing and not force:
        raise CliError(f"{existing[0]} already exists (use --force to replace the certificates)")
    files = make_certificates(hostnames, addresses, days)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for name, content in files.items():
        path = directory / name
        temp = path.with_name(f".{name}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if "key" in name else 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(temp, path)
        written.append(path)
    return written
