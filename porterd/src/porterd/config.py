"""porterd's settings: the flags, dockerd's `daemon.json` keys, and the rules between them.

As dockerd: a setting given both as a flag and in the configuration file is an error, and so
is a key of the file that names no setting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from porter_specs.errors import PorterError

DEFAULT_CONFIG_FILE = Path("/etc/porter/daemon.json")
DEFAULT_HOST = "unix:///run/porter/porter.sock"
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")


class ConfigError(PorterError):
    """A flag or configuration-file value porterd cannot start with."""


@dataclass(frozen=True)
class DaemonConfig:
    data_root: Path = Path("/var/lib/porter")
    exec_root: Path = Path("/run/porter")
    hosts: tuple[str, ...] = ()
    tlsverify: bool = False
    tlscacert: Path | None = None
    tlscert: Path | None = None
    tlskey: Path | None = None
    default_runtime: str = "porter-runtime"
    runtimes: Mapping[str, str] = field(default_factory=dict)
    registry_mirrors: tuple[str, ...] = ()
    insecure_registries: tuple[str, ...] = ()
    log_level: str = "info"
    pidfile: Path | None = None
    bip: str = ""  # the default bridge's gateway address and subnet, CIDR
    default_address_pools: tuple[str, ...] = ()  # "base=CIDR,size=N", as dockerd's flag
    icc: bool = True  # containers on the default bridge may reach each other
    cluster_store: str = ""  # etcd client URLs, comma-separated: join that cluster
    advertise_addr: str = ""  # the address other nodes reach this one at

    @property
    def listen(self) -> tuple[str, ...]:
        return self.hosts or (DEFAULT_HOST,)

    @property
    def pid_path(self) -> Path:
        return self.pidfile or self.exec_root / "porterd.pid"

    def checked(self) -> DaemonConfig:
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(
                f"unable to configure the daemon logging: not a valid log level {self.log_level!r}"
                f" (one of {', '.join(LOG_LEVELS)})"
            )
        if not self.data_root.is_absolute() or not self.exec_root.is_absolute():
            raise ConfigError("--data-root and --exec-root must be absolute paths")
        tls = (self.tlscacert, self.tlscert, self.tlskey)
        if self.tlsverify and None in tls:
            raise ConfigError("--tlsverify needs --tlscacert, --tlscert and --tlskey")
        if self.cluster_store and not self.advertise_addr:
            raise ConfigError("--cluster-store needs --advertise-addr ADDR")
        from porterd.server.listeners import parse_address

        for host in self.listen:
            if parse_address(host).path is None and not self.tlsverify:
                raise ConfigError(
                    f"refusing to listen on {host} without --tlsverify: anyone reaching the"
                    " port would control the host"
                )
        return self


# daemon.json key -> (field, how to read its value)
def _path(value: Any) -> Path:
    if not isinstance(value, str):
        raise TypeError("a path string")
    return Path(value)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError("a list of strings")
    return tuple(value)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a string")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("true or false")
    return value


def _address_pools(value: Any) -> tuple[str, ...]:
    """`[{"base": "10.10.0.0/16", "size": 24}]` as dockerd's file has them."""
    if not isinstance(value, list) or not all(
        isinstance(p, dict) and isinstance(p.get("base"), str) and isinstance(p.get("size"), int)
        for p in value
    ):
        raise TypeError('a list of {"base": CIDR, "size": N} objects')
    return tuple(f"base={p['base']},size={p['size']}" for p in value)


def _runtimes(value: Any) -> dict[str, str]:
    """`{"runc": {"path": "/usr/bin/runc"}}` as dockerd's file has them."""
    if not isinstance(value, dict):
        raise TypeError('an object of {"path": ...} objects')
    table = {}
    for name, entry in value.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise TypeError('an object of {"path": ...} objects')
        table[name] = entry["path"]
    return table


FILE_KEYS = {
    "data-root": ("data_root", _path),
    "exec-root": ("exec_root", _path),
    "hosts": ("hosts", _strings),
    "tlsverify": ("tlsverify", _boolean),
    "tlscacert": ("tlscacert", _path),
    "tlscert": ("tlscert", _path),
    "tlskey": ("tlskey", _path),
    "default-runtime": ("default_runtime", _string),
    "runtimes": ("runtimes", _runtimes),
    "registry-mirrors": ("registry_mirrors", _strings),
    "insecure-registries": ("insecure_registries", _strings),
    "log-level": ("log_level", _string),
    "pidfile": ("pidfile", _path),
    "bip": ("bip", _string),
    "default-address-pools": ("default_address_pools", _address_pools),
    "icc": ("icc", _boolean),
    "cluster-store": ("cluster_store", _string),
    "cluster-advertise": ("advertise_addr", _string),
}
FLAG_OF_FIELD = {field_name: key for key, (field_name, _) in FILE_KEYS.items()}


def read_file(path: Path) -> dict[str, Any]:
    """The settings of a daemon.json, by field name."""
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise ConfigError(
            f"unable to read the configuration file {path}: {error.strerror}"
        ) from error
    except ValueError as error:
        raise ConfigError(f"the configuration file {path} is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise ConfigError(f"the configuration file {path} must hold a JSON object")
    unknown = sorted(set(document) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(
            "the following directives don't match any configuration option: " + ", ".join(unknown)
        )
    settings = {}
    for key, value in document.items():
        field_name, read = FILE_KEYS[key]
        try:
            settings[field_name] = read(value)
        except TypeError as error:
            raise ConfigError(f"{path}: {key!r} must be {error}") from None
    return settings


def merge(flags: dict[str, Any], file_settings: dict[str, Any]) -> DaemonConfig:
    """Flags given on the command line and settings from the file; both for one is an error."""
    both = sorted(set(flags) & set(file_settings))
    if both:
        raise ConfigError(
            "the following directives are specified both as a flag and in the configuration"
            " file: " + ", ".join(FLAG_OF_FIELD[name] for name in both)
        )
    known = {f.name for f in fields(DaemonConfig)}
    return replace(
        DaemonConfig(), **{k: v for k, v in {**file_settings, **flags}.items() if k in known}
    )


def parse_runtime(value: str) -> tuple[str, str]:
    """`--add-runtime NAME=PATH`."""
    name, equals, path = value.partition("=")
    if not equals or not name or not path:
        raise ConfigError(f"invalid --add-runtime {value!r}: expected NAME=PATH")
    return name, path
