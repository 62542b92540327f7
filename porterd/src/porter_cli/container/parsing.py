"""The values of run/create flags turned into Engine API fields, each rejecting bad input
with one line naming the flag: volumes, mounts, ports, env files, ulimits, durations,
restart policies, sizes."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from porter_cli.errors import CliError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_NANOS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def bad(flag: str, value: str, reason: str) -> CliError:
    return CliError(f'invalid argument {value!r} for "{flag}" flag: {reason}', 125)


def duration_ns(flag: str, value: str) -> int:
    """Go's time.ParseDuration ("1m30s", "500ms", "0") in nanoseconds."""
    if value == "0":
        return 0
    total, position = 0, 0
    for match in _DURATION.finditer(value):
        if match.start() != position:
            break
        total += int(float(match.group(1)) * _NANOS[match.group(2)])
        position = match.end()
    if position != len(value) or not value:
        raise bad(flag, value, "expected a duration such as 30s, 1m30s or 500ms")
    return total


def size(flag: str, value: str) -> int:
    from porter_cli.formatter.units import parse_size

    try:
        return parse_size(value)
    except ValueError as error:
        raise bad(flag, value, str(error)) from None


def env_list(values: tuple[str, ...], files: tuple[str, ...]) -> list[str]:
    """--env-file lines, then -e values; `NAME` alone takes the value from porter's own
    environment and is left out when unset there (docker's rule)."""
    result: list[str] = []
    for path in files:
        try:
            text = Path(path).read_text()
        except OSError as error:
            raise CliError(
                f"cannot read env file {path}: {error.strerror or error}", 125
            ) from error
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name = line.split("=", 1)[0]
            if name != name.strip() or " " in name:
                raise CliError(f"{path}:{number}: variable name {name!r} has whitespace", 125)
            result.extend(_env_item(line))
    for item in values:
        result.extend(_env_item(item))
    return result


def _env_item(item: str) -> list[str]:
    name, sep, _ = item.partition("=")
    if not name:
        raise CliError(f"invalid environment variable {item!r}: no name", 125)
    if sep:
        return [item]
    value = os.environ.get(name)
    return [] if value is None else [f"{name}={value}"]


def key_values(flag: str, values: tuple[str, ...]) -> dict[str, str]:
    """--label/--log-opt/--sysctl KEY=VALUE (a label may be KEY alone: empty value)."""
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key or (not sep and flag != "--label"):
            raise bad(flag, item, "expected KEY=VALUE")
        result[key] = value
    return result


def volume(spec: str) -> tuple[str | None, str]:
    """-v SRC:DST[:OPTS] -> (bind string, None) or -v DST -> (None, anonymous volume path)."""
    parts = spec.split(":")
    if len(parts) == 1:
        if not spec.startswith("/"):
            raise bad("--volume", spec, "the path in the container must be absolute")
        return None, spec
    if len(parts) > 3 or not parts[0] or not parts[1].startswith("/"):
        raise bad("--volume", spec, "expected [SOURCE:]/PATH/IN/CONTAINER[:OPTIONS]")
    if len(parts) == 3:
        for option in parts[2].split(","):
            if option not in (
                "ro",
                "rw",
                "z",
                "Z",
                "nocopy",
                "shared",
                "rshared",
                "slave",
                "rslave",
                "private",
                "rprivate",
                "consistent",
                "cached",
                "delegated",
            ):
                raise bad("--volume", spec, f"unknown option {option!r}")
    source = parts[0]
    if "/" in source and not source.startswith("/"):
        source = os.path.abspath(source)  # a relative bind source, made absolute as docker does
    return ":".join([source, *parts[1:]]), ""


_MOUNT_TYPES = ("bind", "volume", "tmpfs")


def mount(spec: str) -> dict[str, Any]:
    """--mount type=bind,source=/a,target=/b,readonly -> an API Mount object."""
    fields: dict[str, str] = {}
    for item in spec.split(","):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not key:
            raise bad("--mount", spec, "empty field")
        fields[key] = value if sep else "true"
    kind = fields.pop("type", "volume")
    if kind not in _MOUNT_TYPES:
        raise bad("--mount", spec, f"type must be one of {', '.join(_MOUNT_TYPES)}")
    target = (
        fields.pop("target", None) or fields.pop("destination", None) or fields.pop("dst", None)
    )
    if not target or not target.startswith("/"):
        raise bad("--mount", spec, "target must be an absolute path")
    result: dict[str, Any] = {"Type": kind, "Target": target}
    source = fields.pop("source", None) or fields.pop("src", None)
    if source:
        result["Source"] = os.path.abspath(source) if kind == "bind" else source
    elif kind == "bind":
        raise bad("--mount", spec, "a bind mount needs a source")
    readonly = fields.pop("readonly", None) or fields.pop("ro", None)
    if readonly is not None:
        result["ReadOnly"] = readonly.lower() in ("true", "1", "")
    if "bind-propagation" in fields:
        result["BindOptions"] = {"Propagation": fields.pop("bind-propagation")}
    if "volume-nocopy" in fields:
        result["VolumeOptions"] = {"NoCopy": fields.pop("volume-nocopy") in ("true", "1")}
    tmpfs: dict[str, int] = {}
    if "tmpfs-size" in fields:
        tmpfs["SizeBytes"] = size("--mount", fields.pop("tmpfs-size"))
    if "tmpfs-mode" in fields:
        try:
            tmpfs["Mode"] = int(fields.pop("tmpfs-mode"), 8)
        except ValueError:
            raise bad("--mount", spec, "tmpfs-mode must be octal") from None
    if tmpfs:
        result["TmpfsOptions"] = tmpfs
    if fields:
        raise bad("--mount", spec, f"unknown field {sorted(fields)[0]!r}")
    return result


def tmpfs(spec: str) -> tuple[str, str]:
    path, _, options = spec.partition(":")
    if not path.startswith("/"):
        raise bad("--tmpfs", spec, "the path in the container must be absolute")
    return path, options


def port(spec: str) -> tuple[str, dict[str, str] | None]:
    """-p [IP:][HOSTPORT:]PORT[/PROTO] -> ("PORT/PROTO", binding)."""
    body, _, proto = spec.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise bad("--publish", spec, "protocol must be tcp, udp or sctp")
    parts = body.rsplit(":", 2)
    container = parts[-1]
    if not container.isdigit() or not 0 < int(container) < 65536:
        raise bad("--publish", spec, "expected [IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]")
    key = f"{container}/{proto}"
    if len(parts) == 1:
        return key, {"HostIp": "", "HostPort": ""}
    host_port = parts[-2]
    if host_port and not host_port.isdigit():
        raise bad("--publish", spec, "the host port must be a number")
    host_ip = parts[0].strip("[]") if len(parts) == 3 else ""
    return key, {"HostIp": host_ip, "HostPort": host_port}


def ulimit(spec: str) -> dict[str, Any]:
    """--ulimit nofile=1024[:2048]."""
    name, sep, values = spec.partition("=")
    soft, _, hard = values.partition(":")
    try:
        soft_value = int(soft)
        hard_value = int(hard) if hard else soft_value
    except ValueError:
        raise bad("--ulimit", spec, "expected NAME=SOFT[:HARD]") from None
    if not sep or not name:
        raise bad("--ulimit", spec, "expected NAME=SOFT[:HARD]")
    if soft_value > hard_value and hard_value != -1:
        raise bad("--ulimit", spec, "the soft limit is above the hard limit")
    return {"Name": name, "Soft": soft_value, "Hard": hard_value}


def restart_policy(value: str) -> dict[str, Any]:
    name, _, count = value.partition(":")
    if name not in ("no", "always", "unless-stopped", "on-failure"):
        raise bad("--restart", value, "expected no, always, unless-stopped or on-failure[:N]")
    if count and (name != "on-failure" or not count.isdigit()):
        raise bad("--restart", value, "only on-failure takes a retry count, a number")
    return {"Name": "" if name == "no" else name, "MaximumRetryCount": int(count or 0)}


def device(spec: str) -> dict[str, str]:
    parts = spec.split(":")
    if len(parts) > 3 or not parts[0].startswith("/"):
        raise bad("--device", spec, "expected /HOST/PATH[:/CONTAINER/PATH][:PERMISSIONS]")
    inside = parts[1] if len(parts) > 1 and parts[1].startswith("/") else parts[0]
    perms = parts[-1] if len(parts) > 1 and not parts[-1].startswith("/") else "rwm"
    return {"PathOnHost": parts[0], "PathInContainer": inside, "CgroupPermissions": perms}
