"""JWTs: ES256 and RS256 signatures, libtrust key ids, and every claim the registry checks."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from porter_registry.tokens import (
    Access,
    TokenError,
    TokenIssuer,
    TokenKeyError,
    TokenVerifier,
    b64url,
    generate_key,
    key_id,
    load_key,
    parse_scope,
)

NOW = 1_700_000_000.0
PULL = (Access("repository", "team/app", ("pull",)),)


def pair(algorithm: str = "ES256", **verifier: object) -> tuple[TokenIssuer, TokenVerifier]:
    key = generate_key(algorithm)
    issuer = TokenIssuer(key, "issuer", clock=lambda: NOW)
    options = {"issuer": "issuer", "audience": "registry", "clock": lambda: NOW, **verifier}
    return issuer, TokenVerifier([key.public_key()], **options)  # type: ignore[arg-type]


def reheader(token: str, **changes: object) -> str:
    header_part, claims, signature = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_part + "=="))
    header.update(changes)
    return f"{b64url(json.dumps(header).encode())}.{claims}.{signature}"


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_a_token_verifies_with_its_claims(algorithm: str) -> None:
    issuer, verifier = pair(algorithm)
    claims = verifier.verify(issuer.issue("alice", "registry", PULL, 300))
    assert claims.subject == "alice"
    assert claims.expires_at == NOW + 300
    assert claims.actions_on("repository", "team/app") == {"pull"}
    assert claims.actions_on("repository", "team/other") == frozenset()


def test_the_key_id_is_libtrusts_twelve_groups_of_four() -> None:
    kid = key_id(generate_key("ES256").public_key())
    groups = kid.split(":")
    assert len(groups) == 12
    assert all(len(g) == 4 and g.isalnum() and g == g.upper() for g in groups)


@pytest.mark.parametrize("offset", [301 + 60, 10_000])
def test_an_expired_token_is_refused(offset: int) -> None:
    issuer, _ = pair()
    _, verifier = pair()
    verifier.keys = {issuer.kid: issuer.key.public_key()}
    verifier.clock = lambda: NOW + offset
    with pytest.raises(TokenError, match="expired"):
        verifier.verify(issuer.issue("alice", "registry", PULL, 300))


def test_a_token_for_another_audience_is_refused() -> None:
    issuer, verifier = pair()
    with pytest.raises(TokenError, match="audience"):
        verifier.verify(issuer.issue("alice", "other-registry", PULL, 300))


def test_a_token_of_another_issuer_is_refused() -> None:
    issuer, verifier = pair()
    issuer.issuer = "somebody-else"
    with pytest.raises(TokenError, match="issuer"):
        verifier.verify(issuer.issue("alice", "registry", PULL, 300))


def test_a_token_not_valid_yet_is_refused() -> None:
    issuer, verifier = pair()
    issuer.clock = lambda: NOW + 3600
    with pytest.raises(TokenError, match="not valid yet"):
        verifier.verify(issuer.issue("alice", "registry", PULL, 300))


def test_a_token_signed_by_an_unknown_key_is_refused() -> None:
    issuer, _ = pair()
    _, verifier = pair()
    with pytest.raises(TokenError, match="not trusted"):
        verifier.verify(issuer.issue("alice", "registry", PULL, 300))


def test_a_tampered_claim_breaks_the_signature() -> None:
    issuer, verifier = pair()
    header, _, signature = issuer.issue("bob", "registry", PULL, 300).split(".")
    forged = issuer.issue("alice", "registry", PULL, 300).split(".")[1]
    with pytest.raises(TokenError, match="signature"):
        verifier.verify(f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("algorithm", ["none", "HS256", "RS256"])
def test_a_token_cannot_choose_another_algorithm(algorithm: str) -> None:
    issuer, verifier = pair("ES256")
    with pytest.raises(TokenError, match="algorithm"):
        verifier.verify(reheader(issuer.issue("alice", "registry", PULL, 300), alg=algorithm))


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "!!.??.**", "e30.e30.", "W10.e30.AA"])
def test_garbage_is_refused_as_a_token_error(garbage: str) -> None:
    _, verifier = pair()
    with pytest.raises(TokenError):
        verifier.verify(garbage)


def test_scopes_keep_colons_of_the_name_and_drop_the_resource_class() -> None:
    assert parse_scope("repository:localhost:5000/app:pull,push") == Access(
        "repository", "localhost:5000/app", ("pull", "push")
    )
    assert parse_scope("repository(plugin):app:pull").type == "repository"
    assert parse_scope("registry:catalog:*") == Access("registry", "catalog", ("*",))


@pytest.mark.parametrize("scope", ["repository", "repository:app", ":app:pull"])
def test_a_malformed_scope_is_refused(scope: str) -> None:
    with pytest.raises(TokenError, match="TYPE:NAME:ACTIONS"):
        parse_scope(scope)


def _certificate(key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "token issuer")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2020, 1, 1))
        .not_valid_after(datetime.datetime(2040, 1, 1))
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_keys_load_from_a_private_key_a_public_key_or_a_certificate(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    files = {
        "key.pem": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        "pub.pem": key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "cert.pem": _certificate(key),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        loaded = load_key(tmp_path / name)
        public = loaded.public_key() if hasattr(loaded, "public_key") else loaded
        assert key_id(public) == key_id(key.public_key())


def test_a_weak_rsa_key_is_refused(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    path = tmp_path / "weak.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(TokenKeyError, match=r"weak.pem: RSA key of 1024 bits"):
        load_key(path)


def test_a_file_that_is_no_key_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "junk.pem"
    path.write_text("hello")
    with pytest.raises(TokenKeyError, match=r"junk\.pem: not a PEM key"):
        load_key(path)
