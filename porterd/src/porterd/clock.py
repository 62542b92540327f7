"""Times as dockerd writes and reads them: RFC 3339 in UTC with nanoseconds, and the `until`
of list and prune filters. One place, so containers, images and networks agree."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from porterd.errors import InvalidParameter

_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")
_UNITS = {"s": 1, "m": 60, "h": 3600}


def rfc3339(nanoseconds: int) -> str:
    seconds, fraction = divmod(nanoseconds, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{fraction:09d}Z"


def now_rfc3339() -> str:
    """The current time as dockerd writes it: RFC 3339 in UTC with nanoseconds."""
    return rfc3339(time.time_ns())


def time_ns(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time with up to nine fraction digits."""
    match = _RFC3339.fullmatch(text)
    if not match:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    stamp, fraction, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    seconds = int(datetime.fromisoformat(stamp + zone).timestamp())
    return seconds * 1_000_000_000 + int((fraction or "0").ljust(9, "0"))


def filter_until(value: str) -> float:
    """A filter's `until`, in seconds since the epoch: an absolute time (seconds with an
    optional fraction, or RFC 3339) or a duration before now (`90s`, `10m`, `1.5h`)."""
    if value[-1:] in _UNITS and value[:-1].replace(".", "", 1).isdigit():
        return time.time() - float(value[:-1]) * _UNITS[value[-1]]
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidParameter(f"invalid filter 'until={value}'") from None
