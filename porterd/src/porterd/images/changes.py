"""`changes` of `docker import` and `docker commit`: Dockerfile instructions applied to an
image's execution config (moby allows CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL,
USER, VOLUME and WORKDIR there)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from typing import Any

from porterd.errors import InvalidParameter


def apply_changes(config: dict[str, Any], changes: Iterable[str]) -> dict[str, Any]:
    """A copy of the execution `config` (`Cmd`, `Env`, ...) with `changes` applied in order."""
    result = dict(config)
    for change in changes:
        keyword, _, rest = change.strip().partition(" ")
        rest = rest.strip()
        apply = _INSTRUCTIONS.get(keyword.upper())
        if apply is None:
            raise InvalidParameter(f"{keyword} is not a valid change command")
        if not rest:
            raise InvalidParameter(f"{keyword.upper()} requires at least one argument")
        apply(result, rest)
    return result


def _exec_form(rest: str) -> list[str] | None:
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest)
    except ValueError:
        return None  # dockerd runs it as a shell command then, as the builder does
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def _command(key: str):
    def apply(config: dict[str, Any], rest: str) -> None:
        config[key] = _exec_form(rest) or ["/bin/sh", "-c", rest]

    return apply


def _pairs(rest: str, keyword: str) -> list[tuple[str, str]]:
    words = shlex.split(rest)
    if "=" not in words[0]:  # the old form: ENV KEY VALUE WITH SPACES
        return [(words[0], rest[len(words[0]) :].strip())]
    pairs = []
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise InvalidParameter(f"{keyword} names must be given as KEY=VALUE: {word!r}")
        pairs.append((key, value))
    return pairs


def _env(config: dict[str, Any], rest: str) -> None:
    env = list(config.get("Env") or [])
    for key, value in _pairs(rest, "ENV"):
        env = [e for e in env if e.partition("=")[0] != key] + [f"{key}={value}"]
    config["Env"] = env


def _label(config: dict[str, Any], rest: str) -> None:
    config["Labels"] = {**(config.get("Labels") or {}), **dict(_pairs(rest, "LABEL"))}


def _expose(config: dict[str, Any], rest: str) -> None:
    ports = dict(config.get("ExposedPorts") or {})
    for port in rest.split():
        number, _, proto = port.partition("/")
        if not number.isdigit():
            raise InvalidParameter(f"invalid port in EXPOSE: {port!r}")
        ports[f"{number}/{proto or 'tcp'}"] = {}
    config["ExposedPorts"] = ports


def _volume(config: dict[str, Any], rest: str) -> None:
    volumes = dict(config.get("Volumes") or {})
    for path in _exec_form(rest) or rest.split():
        volumes[path] = {}
    config["Volumes"] = volumes


def _onbuild(config: dict[str, Any], rest: str) -> None:
    config["OnBuild"] = [*(config.get("OnBuild") or []), rest]


def _string(key: str):
    def apply(config: dict[str, Any], rest: str) -> None:
        config[key] = rest

    return apply


_INSTRUCTIONS = {
    "CMD": _command("Cmd"),
    "ENTRYPOINT": _command("Entrypoint"),
    "ENV": _env,
    "EXPOSE": _expose,
    "LABEL": _label,
    "ONBUILD": _onbuild,
    "STOPSIGNAL": _string("StopSignal"),
    "USER": _string("User"),
    "VOLUME": _volume,
    "WORKDIR": _string("WorkingDir"),
}
