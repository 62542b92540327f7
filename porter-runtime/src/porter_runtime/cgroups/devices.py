"""Device access rules (`linux.resources.devices`), reduced to one final rule set.

The spec's list is applied in order, with cgroup v1's semantics: a rule of type "a"
resets everything (deny-all or allow-all, no exceptions); any other rule adds an
exception when it goes against the current default and removes one when it agrees.
Both backends consume the result: v1 writes it to devices.deny/devices.allow, v2
compiles it into an eBPF program, so a config means the same thing on either.
"""

from __future__ import annotations

from porter_runtime.cgroups.base import CgroupError
from porter_runtime.frozen import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and dataclasses cost milliseconds at every runtime start
    from collections.abc import Iterable, Mapping
    from typing import Any

WILDCARD = -1
ACCESS_BITS = {"m": 1, "r": 2, "w": 4}  # the kernel's BPF_DEVCG_ACC_* values

# The devices every container gets on top of its config, as runc grants them.
DEFAULT_ALLOWED_DEVICES: tuple[dict[str, Any], ...] = (
    {"allow": True, "type": "c", "major": WILDCARD, "minor": WILDCARD, "access": "m"},
    {"allow": True, "type": "b", "major": WILDCARD, "minor": WILDCARD, "access": "m"},
    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},  # null
    {"allow": True, "type": "c", "major": 1, "minor": 8, "access": "rwm"},  # random
    {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"},  # full
    {"allow": True, "type": "c", "major": 5, "minor": 0, "access": "rwm"},  # tty
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},  # zero
    {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},  # urandom
    {"allow": True, "type": "c", "major": 136, "minor": WILDCARD, "access": "rwm"},  # pts
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},  # ptmx
    {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"},  # tun
)


class DeviceRule(Frozen):
    """One exception to the default: a device type and number with some access bits."""

    __slots__ = ("access", "major", "minor", "type")
    _FIELDS = ("type", "major", "minor", "access")
    type: str  # "c" or "b"
    major: int
    minor: int
    access: str  # subset of "rwm", in that order

    def __init__(self, type: str, major: int, minor: int, access: str) -> None:
        super().__init__(type, major, minor, access)

    def v1_entry(self) -> str:
        """The line devices.allow / devices.deny take: "c 1:3 rwm"."""
        major = "*" if self.major == WILDCARD else str(self.major)
        minor = "*" if self.minor == WILDCARD else str(self.minor)
        return f"{self.type} {major}:{minor} {self.access}"

    def access_mask(self) -> int:
        return sum(ACCESS_BITS[c] for c in self.access)


class DevicePolicy(Frozen):
    """The outcome of a rule list: a default plus the exceptions to it."""

    __slots__ = ("default_allow", "exceptions")
    _FIELDS = ("default_allow", "exceptions")
    default_allow: bool
    exceptions: tuple[DeviceRule, ...]

    def __init__(self, default_allow: bool, exceptions: tuple[DeviceRule, ...]) -> None:
        super().__init__(default_allow, exceptions)


def parse_rule(raw: Mapping[str, Any], path: str) -> tuple[bool, DeviceRule | None]:
    """Validate one spec rule; returns (allow, rule) with rule None for a type "a" reset."""
    if not isinstance(raw, dict) or not isinstance(raw.get("allow"), bool):
        raise CgroupError(path, "devices", f"rule {raw!r} needs a boolean 'allow'")
    allow = raw["allow"]
    typ = raw.get("type") or "a"
    if typ not in ("a", "c", "b"):
        raise CgroupError(path, "devices", f"rule type {typ!r} is not one of a, c, b")
    if typ == "a":
        return allow, None
    access = raw.get("access") or "rwm"
    if not isinstance(access, str) or set(access) - set("rwm"):
        raise CgroupError(path, "devices", f"rule access {access!r} must be letters of 'rwm'")
    numbers = []
    for key in ("major", "minor"):
        value = raw.get(key)
        if value is None:
            value = WILDCARD
        if not isinstance(value, int) or isinstance(value, bool) or value < WILDCARD:
            raise CgroupError(path, "devices", f"rule {key} {value!r} is not a device number")
        numbers.append(value)
    ordered = "".join(c for c in "rwm" if c in access)
    return allow, DeviceRule(typ, numbers[0], numbers[1], ordered)


def emulate(rules: Iterable[Mapping[str, Any]], path: str) -> DevicePolicy:
    """Apply rules in order, starting from allow-all (a fresh cgroup's state)."""
    default_allow = True
    exceptions: dict[tuple[str, int, int], set[str]] = {}
    for raw in rules:
        allow, rule = parse_rule(raw, path)
        if rule is None:
            default_allow, exceptions = allow, {}
            continue
        key = (rule.type, rule.major, rule.minor)
        if allow != default_allow:
            exceptions.setdefault(key, set()).update(rule.access)
        elif key in exceptions:
            exceptions[key] -= set(rule.access)
            if not exceptions[key]:
                del exceptions[key]
    ordered = tuple(
        DeviceRule(t, ma, mi, "".join(c for c in "rwm" if c in acc))
        for (t, ma, mi), acc in exceptions.items()
    )
    return DevicePolicy(default_allow, ordered)
