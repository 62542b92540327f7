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


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "porter"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(
    subject: str,
    key: Any,
    issuer: Any,
    issuer_key: Any,
    days: int,
    extensions: list[tuple[Any, bool]],
) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _usage(**allowed: bool) -> Any:
    from cryptography import x509

    flags = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    flags.update(allowed)
    return x509.KeyUsage(**flags)


def make_certificates(
    hostnames: tuple[str, ...], addresses: tuple[str, ...], days: int
) -> dict[str, bytes]:
    """The six PEM files by name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    try:
        ips = [ipaddress.ip_address(address) for address in addresses]
    except ValueError as error:
        raise CliError(f"invalid --ip: {error}") from error
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca_name = _name("porter CA")
    ca = _certificate(
        "porter CA",
        ca_key,
        ca_name,
        ca_key,
        days,
        [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (_usage(key_cert_sign=True, crl_sign=True, digital_signature=True), True),
        ],
    )
    names = [x509.DNSName(name) for name in hostnames] + [x509.IPAddress(ip) for ip in ips]

    def leaf(subject: str, key: Any, purpose: Any, extra: list[tuple[Any, bool]]) -> Any:
        """A certificate signed by the CA for one purpose (serverAuth or clientAuth)."""
        extensions = [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_usage(digital_signature=True, key_agreement=True), True),
            (x509.ExtendedKeyUsage([purpose]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
            *extra,
        ]
        return _certificate(subject, key, ca_name, ca_key, days, extensions)

    server_subject = hostnames[0] if hostnames else str(ips[0])
    server = leaf(
        server_subject,
        server_key,
        ExtendedKeyUsageOID.SERVER_AUTH,
        [(x509.SubjectAlternativeName(names), False)],
    )
    client = leaf("porter client", client_key, ExtendedKeyUsageOID.CLIENT_AUTH, [])

    def key_pem(key: Any) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def cert_pem(cert: Any) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    return {
        "ca.pem": cert_pem(ca),
        "ca-key.pem": key_pem(ca_key),
        "server-cert.pem": cert_pem(server),
        "server-key.pem": key_pem(server_key),
        "cert.pem": cert_pem(client),
        "key.pem": key_pem(client_key),
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
