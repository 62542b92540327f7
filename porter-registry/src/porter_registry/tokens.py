"""Signed JWTs as the Docker token-auth spec uses them: issued by the token endpoint, checked by
the registry on every request.

Only ES256 (ECDSA P-256) and RS256 (RSA PKCS#1 v1.5, SHA-256) are issued or accepted, each bound
to its key type, so a token can never pick its own verification (no `none`, no HMAC with a public
key). The `kid` is CNCF distribution's (libtrust's) key id of the public key, so distribution can
verify our tokens given our certificate, and we can verify tokens of a distribution-style issuer
given its key. Claims follow the spec: `iss`, `sub`, `aud` (the registry's service name), `exp`,
`nbf`, `iat`, `jti` and `access`, a list of `{type, name, actions}`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from porter_specs.errors import PorterError

from porter_registry.config import ConfigError

ALGORITHMS = ("ES256", "RS256")
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
DEFAULT_LEEWAY = 60


class TokenError(PorterError):
    """A token that must not be honoured; the message says why (for `error_description`)."""


class TokenKeyError(ConfigError):
    """A token key cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class Access:
    """One `access` entry: `type` (repository, registry), `name`, and the actions granted."""

    type: str
    name: str
    actions: tuple[str, ...]

    def scope(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


def parse_scope(scope: str) -> Access:
    """`repository:library/alpine:pull,push` -> Access. The name may itself hold colons
    (a registry's `host:port` prefix), so type is split at the first colon, actions at the last;
    a resource class such as `repository(plugin)` is dropped."""
    kind, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not kind or not name:
        raise TokenError(f"scope {scope!r}: expected TYPE:NAME:ACTIONS")
    kind = kind.split("(", 1)[0]
    return Access(kind, name, tuple(a for a in actions.split(",") if a))


@dataclass(frozen=True)
class Claims:
    """What a verified token says."""

    issuer: str
    subject: str
    audience: tuple[str, ...]
    expires_at: int
    issued_at: int
    access: tuple[Access, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def actions_on(self, kind: str, name: str) -> frozenset[str]:
        granted: set[str] = set()
        for entry in self.access:
            if entry.type == kind and entry.name == name:
                granted.update(entry.actions)
        return frozenset(granted)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    if not text or not all(c.isalnum() or c in "-_" for c in text):
        raise TokenError("token is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenError("token is not base64url") from exc


def key_id(public_key: PublicKey) -> str:
    """libtrust's key id: base32 of the first 240 bits of SHA-256 of the DER public key,
    in twelve groups of four characters joined by colons."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise TokenKeyError(f"EC key on {key.curve.name}: ES256 needs P-256")
        return "ES256"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise TokenKeyError(f"RSA key of {key.key_size} bits: RS256 needs at least 2048")
        return "RS256"
    raise TokenKeyError(f"{type(key).__name__}: use an EC P-256 (ES256) or RSA (RS256) key")


def generate_key(algorithm: str) -> PrivateKey:
    """A fresh key for `algorithm`, for a registry that has no key file configured."""
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise TokenKeyError(f"token algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")


def load_key(path: str | Path) -> PrivateKey | PublicKey:
    """A PEM private key, public key or X.509 certificate (its public key)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TokenKeyError(f"token key {path}: cannot read: {exc.strerror}") from exc
    loaded: Any = None
    try:
        if b"PRIVATE KEY-----" in data:
            loaded = serialization.load_pem_private_key(data, password=None)
        elif b"CERTIFICATE-----" in data:
            loaded = x509.load_pem_x509_certificate(data).public_key()
        else:
            loaded = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise TokenKeyError(f"token key {path}: not a PEM key or certificate: {exc}") from exc
    try:
        algorithm_of(loaded)
    except TokenKeyError as exc:
        raise TokenKeyError(f"token key {path}: {exc}") from exc
    return loaded


def _sign(key: PrivateKey, message: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = utils.decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def _verify(key: PublicKey, signature: bytes, message: bytes) -> None:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                raise TokenError("token signature has the wrong length")
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(utils.encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise TokenError("token signature is invalid") from exc


class TokenIssuer:
    """Signs tokens with one private key."""

    def __init__(
        self, key: PrivateKey, issuer: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.key = key
        self.algorithm = algorithm_of(key)
        self.kid = key_id(key.public_key())
        self.issuer = issuer
        self.clock = clock

    def issue(
        self,
        subject: str,
        audience: str,
        access: Iterable[Access],
        expires_in: int,
        **extra: Any,
    ) -> str:
        now = int(self.clock())
        header = {"typ": "JWT", "alg": self.algorithm, "kid": self.kid}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "exp": now + expires_in,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
            "access": [entry.to_json() for entry in access],
            **extra,
        }
        signing_input = ".".join(
            b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        return f"{signing_input}.{b64url(_sign(self.key, signing_input.encode()))}"


class TokenVerifier:
    """Checks tokens: signature by a known key, issuer, audience, validity period, claims."""

    def __init__(
        self,
        keys: Iterable[PublicKey],
        issuer: str,
        audience: str,
        leeway: int = DEFAULT_LEEWAY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = {key_id(key): key for key in keys}
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.clock = clock

    def _key_for(self, header: dict[str, Any]) -> PublicKey:
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise TokenError(f"token algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        if kid is None and len(self.keys) == 1:
            key = next(iter(self.keys.values()))
        elif isinstance(kid, str) and kid in self.keys:
            key = self.keys[kid]
        else:
            raise TokenError(f"token key id {kid!r} is not trusted")
        if algorithm_of(key) != algorithm:
            raise TokenError(f"token algorithm {algorithm} does not match its key")
        return key

    def verify(self, token: str) -> Claims:
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("token is not a JWS compact serialization")
        header, claims = (_json_part(p) for p in parts[:2])
        _verify(self._key_for(header), b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode())
        return self._check_claims(claims)

    def _check_claims(self, claims: dict[str, Any]) -> Claims:
        now = self.clock()
        if claims.get("iss") != self.issuer:
            raise TokenError(f"token issuer {claims.get('iss')!r} is not trusted")
        audience = claims.get("aud")
        audiences = tuple(audience) if isinstance(audience, list) else (audience,)
        if self.audience not in audiences:
            raise TokenError(f"token audience {audience!r} is not this registry")
        expires, not_before, issued = (_number(claims, k) for k in ("exp", "nbf", "iat"))
        if expires is None:
            raise TokenError("token has no expiry")
        if now > expires + self.leeway:
            raise TokenError("token has expired")
        if not_before is not None and now < not_before - self.leeway:
            raise TokenError("token is not valid yet")
        if issued is not None and issued > now + self.leeway:
            raise TokenError("token was issued in the future")
        subject = claims.get("sub", "")
        if not isinstance(subject, str):
            raise TokenError("token subject is not a string")
        known = {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "access"}
        return Claims(
            issuer=self.issuer,
            subject=subject,
            audience=tuple(str(a) for a in audiences),
            expires_at=int(expires),
            issued_at=int(issued or 0),
            access=_access(claims.get("access", [])),
            extra={k: v for k, v in claims.items() if k not in known},
        )


def _json_part(part: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(part))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("token part is not JSON") from exc
    if not isinstance(value, dict):
        raise TokenError("token part is not a JSON object")
    return value


def _number(claims: dict[str, Any], key: str) -> float | None:
    value = claims.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError(f"token claim {key!r} is not a number")
    return float(value)


def _access(entries: Any) -> tuple[Access, ...]:
    if not isinstance(entries, list):
        raise TokenError("token access claim is not a list")
    parsed = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise TokenError("token access entry is not an object")
        kind, name, actions = entry.get("type"), entry.get("name"), entry.get("actions", [])
        if not isinstance(kind, str) or not isinstance(name, str) or not isinstance(actions, list):
            raise TokenError("token access entry lacks type, name or actions")
        parsed.append(Access(kind, name, tuple(str(a) for a in actions)))
    return tuple(parsed)
