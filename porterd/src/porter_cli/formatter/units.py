"""Sizes and durations as docker prints them (go-units' HumanSize and HumanDuration)."""

from __future__ import annotations

import time

_SIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def _scaled(size: float, base: int, units: tuple[str, ...]) -> str:
    unit = 0
    while size >= base and unit < len(units) - 1:
        size /= base
        unit += 1
    return f"{size:.4g}{units[unit]}"


def human_size(size: float) -> str:
    """1234567 -> "1.235MB" (decimal units, 4 significant digits)."""
    return _scaled(size, 1000, _SIZE_UNITS)


def binary_size(size: float) -> str:
    """1048576 -> "1MiB" (binary units, as `stats` prints memory)."""
    return _scaled(size, 1024, _BINARY_UNITS)


def human_duration(seconds: float) -> str:
    """go-units' HumanDuration: "Less than a second", "About a minute", "3 hours", ..."""
    if seconds < 1:
        return "Less than a second"
    if int(seconds) == 1:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"


def created_at(timestamp: float) -> str:
    """A unix time as docker's CreatedAt column prints it: "2024-05-01 12:00:00 +0000 UTC"."""
    return time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(timestamp))


def since(timestamp: float, now: float | None = None) -> str:
    """ "5 minutes ago" for a unix time."""
    now = time.time() if now is None else now
    return f"{human_duration(max(0.0, now - timestamp))} ago"


def parse_rfc3339(value: str) -> float:
    """Seconds since the epoch of an RFC 3339 time as the Engine API writes it (nanoseconds
    included); 0 for an empty or zero time."""
    from datetime import datetime

    if not value or value.startswith("0001-01-01"):
        return 0.0
    text = value.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(text).timestamp()


def parse_size(value: str) -> int:
    """ "512m", "1g", "100k", "1024", "1.5GB" -> bytes (docker's RAMInBytes: binary multiples)."""
    import re

    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?", value.strip().lower())
    if not match:
        raise ValueError(f"invalid size: {value!r}")
    multiplier = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
    return int(float(match.group(1)) * multiplier[match.group(2)])
