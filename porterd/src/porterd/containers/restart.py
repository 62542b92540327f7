"""Restart policies as dockerd's restartmanager applies them: `no`, `always`,
`unless-stopped` and `on-failure[:N]`, with a delay that doubles from 100 ms on each restart
in a row (up to a minute) and starts again once a run lasted ten seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from porterd.errors import InvalidParameter

POLICIES = ("", "no", "always", "unless-stopped", "on-failure")
FIRST_DELAY = 0.1
MAX_DELAY = 60.0
RESET_AFTER = 10.0


@dataclass(frozen=True)
class RestartPolicy:
    name: str = "no"
    maximum_retry_count: int = 0

    @classmethod
    def from_host_config(cls, host_config: dict[str, Any]) -> RestartPolicy:
        policy = host_config.get("RestartPolicy") or {}
        name = policy.get("Name") or "no"
        if name not in POLICIES:
            raise InvalidParameter(f"invalid restart policy: unknown policy '{name}'")
        try:
            retries = int(policy.get("MaximumRetryCount") or 0)
        except (TypeError, ValueError):
            raise InvalidParameter("invalid restart policy: MaximumRetryCount") from None
        if retries < 0:
            raise InvalidParameter("invalid restart policy: max retry count cannot be negative")
        if retries and name != "on-failure":
            raise InvalidParameter(
                "invalid restart policy: maximum retry count can only be used with 'on-failure'"
            )
        return cls(name, retries)

    def is_none(self) -> bool:
        return self.name in ("", "no")

    def should_restart(self, exit_code: int, restart_count: int, manually_stopped: bool) -> bool:
        if manually_stopped or self.is_none():
            return False
        if self.name in ("always", "unless-stopped"):
            return True
        if exit_code == 0:
            return False
        return self.maximum_retry_count == 0 or restart_count < self.maximum_retry_count

    def restarts_with_daemon(self, manually_stopped: bool) -> bool:
        """Started again when porterd starts: `always`, and `unless-stopped` unless stopped."""
        return self.name == "always" or (self.name == "unless-stopped" and not manually_stopped)


def restart_delay(previous_delay: float, ran_for: float) -> float:
    """The wait before the next restart, given the last one and how long the run lasted."""
    if ran_for >= RESET_AFTER or previous_delay <= 0:
        return FIRST_DELAY
    return min(previous_delay * 2, MAX_DELAY)
