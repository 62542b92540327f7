"""`changes` of `docker import` and `docker commit`: Dockerfile instructions applied to an
image's execution config. Parsed by porter-image's Dockerfile parser and expanded with the
config's environment, as moby's BuildFromConfig does; only CMD, ENTRYPOINT, ENV, EXPOSE,
LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and WORKDIR may appear there."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from porter_image.dockerfile import instructions as ins
from porter_image.dockerfile.errors import DockerfileSyntaxError, SubstitutionError
from porter_image.dockerfile.lines import LogicalLine
from porter_image.dockerfile.parse import parse_instruction
from porter_image.dockerfile.words import expand_word

from porterd.errors import InvalidParameter

Config = dict[str, Any]


def apply_changes(config: Config, changes: Iterable[str]) -> Config:
    """A copy of the execution `config` (`Cmd`, `Env`, ...) with `changes` applied in order."""
    result = dict(config)
    for change in changes:
        keyword, _, rest = change.strip().partition(" ")
        apply = _APPLY.get(keyword.upper())
        if apply is None:
            raise InvalidParameter(f"{keyword} is not a valid change command")
        line = LogicalLine(1, keyword.upper(), rest.strip())
        try:
            apply(result, parse_instruction(line, "changes"), _Words(result))
        except (DockerfileSyntaxError, SubstitutionError) as exc:
            raise InvalidParameter(str(exc)) from exc
    return result


class _Words:
    """Expands a word as written with the environment the config has so far."""

    def __init__(self, config: Config) -> None:
        self.env = dict(e.partition("=")[::2] for e in config.get("Env") or [])

    def __call__(self, word: str) -> str:
        return expand_word(word, self.env)


def _command(command: ins.Command) -> list[str]:
    if isinstance(command, ins.ExecForm):
        return list(command.args)
    return ["/bin/sh", "-c", command.text]


def _cmd(config: Config, instruction: Any, words: _Words) -> None:
    config["Cmd"] = _command(instruction.command)


def _entrypoint(config: Config, instruction: Any, words: _Words) -> None:
    config["Entrypoint"] = _command(instruction.command)


def _env(config: Config, instruction: Any, words: _Words) -> None:
    env = list(config.get("Env") or [])
    for key, raw in instruction.pairs:
        value = words(raw)
        env = [e for e in env if e.partition("=")[0] != key] + [f"{key}={value}"]
        words.env[key] = value
    config["Env"] = env


def _label(config: Config, instruction: Any, words: _Words) -> None:
    labels = {words(k): words(v) for k, v in instruction.pairs}
    config["Labels"] = {**(config.get("Labels") or {}), **labels}


def _expose(config: Config, instruction: Any, words: _Words) -> None:
    ports = dict(config.get("ExposedPorts") or {})
    for port in (words(p) for p in instruction.ports):
        number, _, proto = port.partition("/")
        if not number.isdigit():
            raise InvalidParameter(f"invalid port in EXPOSE: {port!r}")
        ports[f"{number}/{proto or 'tcp'}"] = {}
    config["ExposedPorts"] = ports


def _volume(config: Config, instruction: Any, words: _Words) -> None:
    volumes = dict(config.get("Volumes") or {})
    volumes.update({words(path): {} for path in instruction.paths})
    config["Volumes"] = volumes


def _onbuild(config: Config, instruction: Any, words: _Words) -> None:
    config["OnBuild"] = [*(config.get("OnBuild") or []), instruction.expression]


def _string(key: str, field: str) -> Callable[[Config, Any, _Words], None]:
    def apply(config: Config, instruction: Any, words: _Words) -> None:
        config[key] = words(getattr(instruction, field))

    return apply


_APPLY: dict[str, Callable[[Config, Any, _Words], None]] = {
    "CMD": _cmd,
    "ENTRYPOINT": _entrypoint,
    "ENV": _env,
    "EXPOSE": _expose,
    "LABEL": _label,
    "ONBUILD": _onbuild,
    "STOPSIGNAL": _string("StopSignal", "signal"),
    "USER": _string("User", "user"),
    "VOLUME": _volume,
    "WORKDIR": _string("WorkingDir", "path"),
}
