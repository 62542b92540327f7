"""X.509 pieces shared by the two small CAs Porter keeps: `porter tls init`'s (porter and
porterd over mutual TLS) and the cluster's (porterd nodes to each other). EC P-256 keys,
SHA-256 signatures; `cryptography` is imported only when a certificate is made."""

from __future__ import annotations

import datetime
from typing import Any

KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def new_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def name(organization: str, common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def key_usage(**allowed: bool) -> Any:
    """KeyUsage with the named usages on and every other off."""
    from cryptography import x509

    return x509.KeyUsage(**{usage: allowed.get(usage, False) for usage in KEY_USAGES})


def ca_extensions() -> list[tuple[Any, bool]]:
    """A CA that signs certificates only, with no CA below it."""
    from cryptography import x509

    return [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (key_usage(key_cert_sign=True, crl_sign=True, digital_signature=True), True),
    ]


def certificate(
    subject: Any,
    key: Any,
    issuer: Any,
    issuer_key: Any,
    lifetime: datetime.timedelta,
    extensions: list[tuple[Any, bool]],
) -> Any:
    """`key`'s certificate for `subject`, signed by `issuer_key` as `issuer`, valid from five
    minutes ago (clocks differ) for `lifetime`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + lifetime)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def key_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def certificate_pem(cert: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)
