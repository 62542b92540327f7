"""Query-string values as dockerd reads them: booleans, integers, timestamps and filters.

Router modules share these so that `?all=1`, `?force=true`, `?filters={...}` mean the same on
every route, and a malformed value is one InvalidParameter (400), never a 500.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Collection

import falcon

from porterd.errors import InvalidParameter

_FALSE = {"", "0", "no", "false", "none"}


def flag(req: falcon.Request, name: str, default: bool = False) -> bool:
    """dockerd's BoolValue: absent -> default; "", 0, no, false, none -> False; else True."""
    value = req.get_param(name)
    if value is None:
        return default
    return value.strip().lower() not in _FALSE


def integer(
    req: falcon.Request, name: str, default: int | None = None, *, minimum: int | None = None
) -> int | None:
    value = req.get_param(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise InvalidParameter(f"invalid value for {name}: {value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise InvalidParameter(f"invalid value for {name}: {number} is below {minimum}")
    return number


def timestamp(req: falcon.Request, name: str) -> int | None:
    """`since`/`until`: seconds since the epoch with an optional fraction, or RFC 3339.

    Returned in nanoseconds, as events are stamped.
    """
    value = req.get_param(name)
    if value is None or value == "":
        return None
    seconds, _, fraction = value.partition(".")
    if seconds.lstrip("-").isdigit() and (not fraction or fraction.isdigit()):
        nanos = int((fraction + "000000000")[:9]) if fraction else 0
        return int(seconds) * 1_000_000_000 + (-nanos if seconds.startswith("-") else nanos)
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(f"invalid value for {name}: {value!r} is not a timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1_000_000_000)


def filters(req: falcon.Request, allowed: Collection[str]) -> dict[str, list[str]]:
    """`?filters=` as key -> values, in either form clients send.

    `{"label": ["a=b"]}` (API 1.22+) or `{"label": {"a=b": true}}` (the docker CLI's form);
    a key outside `allowed` is refused as dockerd refuses it.
    """
    raw = req.get_param("filters")
    if raw is None or raw == "":
        return {}
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise InvalidParameter(f"invalid filters {raw!r}: {error}") from None
    if not isinstance(document, dict):
        raise InvalidParameter(f"invalid filters {raw!r}: expected a JSON object")
    parsed: dict[str, list[str]] = {}
    for key, values in document.items():
        if key not in allowed:
            raise InvalidParameter(f"invalid filter '{key}'")
        if isinstance(values, dict):
            chosen = [value for value, on in values.items() if on is True]
        elif isinstance(values, list):
            chosen = values
        else:
            raise InvalidParameter(f"invalid filter '{key}': expected a list of strings")
        if not all(isinstance(value, str) for value in chosen):
            raise InvalidParameter(f"invalid filter '{key}': expected a list of strings")
        parsed[key] = list(chosen)
    return parsed
