"""Config values of instructions that make no layer: durations, ports, healthchecks."""

from __future__ import annotations

import re
from typing import Any

from porter_image.dockerfile import instructions as ins

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def parse_duration(text: str) -> int:
    """Go's time.ParseDuration in nanoseconds (`1m30s`, `500ms`); ValueError when malformed."""
    if text == "0":
        return 0
    position, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"invalid duration {text!r}")
    return int(total)


def port_keys(port: str) -> list[str]:
    """`80`, `80/udp`, `8000-8002` as ExposedPorts keys (`80/tcp`); ValueError when bad."""
    number, _, proto = port.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise ValueError(f"invalid protocol {proto!r} in {port!r}")
    low, dash, high = number.partition("-")
    if not low.isdigit() or (dash and not high.isdigit()):
        raise ValueError(f"invalid port {port!r}")
    first, last = int(low), int(high) if dash else int(low)
    if not 0 < first <= last <= 65535:
        raise ValueError(f"invalid port range {port!r}")
    return [f"{n}/{proto}" for n in range(first, last + 1)]


def command_args(command: ins.Command, shell: tuple[str, ...]) -> list[str]:
    """A CMD/ENTRYPOINT/RUN as an argv: exec form as is, shell form through SHELL."""
    if isinstance(command, ins.ExecForm):
        return list(command.args)
    return [*shell, command.text]


def healthcheck(check: ins.Healthcheck, shell: tuple[str, ...]) -> dict[str, Any]:
    """The config's Healthcheck object, durations in nanoseconds as Docker stores them."""
    if check.command is None:
        return {"Test": ["NONE"]}
    if isinstance(check.command, ins.ExecForm):
        test = ["CMD", *check.command.args]
    else:
        test = ["CMD-SHELL", check.command.text]
    result: dict[str, Any] = {"Test": test}
    for key, value in (
        ("Interval", check.interval),
        ("Timeout", check.timeout),
        ("StartPeriod", check.start_period),
        ("StartInterval", check.start_interval),
    ):
        if value:
            result[key] = parse_duration(value)
    if check.retries:
        if not check.retries.isdigit():
            raise ValueError(f"invalid retries {check.retries!r}")
        result["Retries"] = int(check.retries)
    return result
