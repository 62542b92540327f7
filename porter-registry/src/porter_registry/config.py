"""The registry's configuration: a TOML or JSON file, overridden by flags and PORTER_REGISTRY_*.

The file is optional; every field has the embedded default, so `serve --listen ... --data ...`
alone is a working registry. Unknown keys and wrongly typed values are refused with one line
naming the file, the key and the reason. See README.md for the reference.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from porter_specs.errors import PorterError

from porter_registry.manifest_document import MAX_MANIFEST_BYTES


class ConfigError(PorterError):
    """The configuration cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class TlsConfig:
    cert: str = ""
    key: str = ""


@dataclass(frozen=True)
class LimitsConfig:
    max_manifest_bytes: int = MAX_MANIFEST_BYTES
    # Largest request body waitress accepts (a monolithic blob upload or one chunk).
    max_request_bytes: int = 1 << 40
    threads: int = 16
    connection_limit: int = 256
    gc_grace_seconds: int = 3600
    upload_max_age_seconds: int = 7 * 24 * 3600


@dataclass(frozen=True)
class PolicyRule:
    """Who may do what on the repositories matching `repository` (a glob)."""

    repository: str = "*"
    users: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    anonymous: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthConfig:
    """Parsed now, enforced by the `Authorizer` `from_config.build_authorizer` builds from it."""

    kind: str = "none"  # none | htpasswd | token
    realm: str = "porter-registry"
    htpasswd: str = ""
    token_issuer: str = "porter-registry"
    token_service: str = "porter-registry"
    token_key: str = ""
    token_algorithm: str = "ES256"
    token_expiration_seconds: int = 300
    login_attempts_per_minute: int = 10
    policy: tuple[PolicyRule, ...] = ()
    # `NAME=user1,user2` entries; policy rules name a group as `@NAME`.
    groups: tuple[str, ...] = ()
    # Where clients get tokens; empty: the built-in endpoint, `/token` on this registry.
    token_realm: str = ""


@dataclass(frozen=True)
class ProxyConfig:
    """Upstream of a pull-through cache (see `from_config.build_upstream`)."""

    url: str = ""
    username: str = ""
    password: str = ""


@dataclass(frozen=True)
class RegistryConfig:
    listen: str = "127.0.0.1:5000"
    data: str = ""
    delete_enabled: bool = True
    read_only: bool = False
    log_level: str = "info"
    tls: TlsConfig = field(default_factory=TlsConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    proxy: ProxyConfig = field(default_factory=ProxyConfig)

    def listen_address(self) -> tuple[str, int]:
        host, sep, port = self.listen.rpartition(":")
        if not sep or not port.isdigit() or not host or int(port) > 65535:
            raise ConfigError(f"listen address {self.listen!r}: expected HOST:PORT")
        return host.strip("[]"), int(port)


LOG_LEVELS = ("debug", "info", "warning", "error")
_NESTED = {"tls": TlsConfig, "limits": LimitsConfig, "auth": AuthConfig, "proxy": ProxyConfig}


def read_file(path: str | Path) -> dict[str, Any]:
    """Parse a config file, TOML (`.toml`) or JSON (anything else)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config {path}: cannot read: {exc.strerror}") from exc
    try:
        document = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {path}: cannot parse: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"config {path}: the top level must be a table/object")
    return document


def _coerce(value: Any, default: Any, where: str) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}: expected a non-negative integer, got {value!r}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    raise ConfigError(f"{where}: unsupported value {value!r}")  # pragma: no cover


def _section(cls: type, document: Any, where: str) -> Any:
    if not isinstance(document, dict):
        raise ConfigError(f"{where}: expected a table/object")
    defaults = cls()
    fields = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in document.items():
        if key not in fields:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(fields))})")
        if key in _NESTED and cls is RegistryConfig:
            values[key] = _section(_NESTED[key], value, f"{where}.{key}")
        elif key == "policy" and cls is AuthConfig:
            if not isinstance(value, list):
                raise ConfigError(f"{where}.policy: expected a list of tables")
            values[key] = tuple(
                _section(PolicyRule, rule, f"{where}.policy[{i}]") for i, rule in enumerate(value)
            )
        else:
            values[key] = _coerce(value, getattr(defaults, key), f"{where}.{key}")
    return cls(**values)


def build_config(
    document: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    source: str = "config",
) -> RegistryConfig:
    """The file's settings (or defaults) with `overrides` (flat or dotted keys) applied on top."""
    config: RegistryConfig = _section(RegistryConfig, document or {}, source)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        section, _, leaf = key.rpartition(".")
        if section:
            nested = dataclasses.replace(getattr(config, section), **{leaf: value})
            config = dataclasses.replace(config, **{section: nested})
        else:
            config = dataclasses.replace(config, **{leaf: value})
    check(config)
    return config


def check(config: RegistryConfig) -> None:
    """Refuse combinations that cannot work, one clear line each."""
    config.listen_address()
    if config.log_level not in LOG_LEVELS:
        raise ConfigError(f"log_level {config.log_level!r}: use one of {', '.join(LOG_LEVELS)}")
    if bool(config.tls.cert) != bool(config.tls.key):
        raise ConfigError("tls: give both a certificate and a key, or neither")
    if config.auth.kind not in ("none", "htpasswd", "token"):
        raise ConfigError(f"auth.kind {config.auth.kind!r}: use none, htpasswd or token")
    if config.limits.threads < 1:
        raise ConfigError("limits.threads: must be at least 1")
