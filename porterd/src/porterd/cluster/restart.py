"""A service's restart policy, docker's TaskTemplate.RestartPolicy, as swarmkit's restart
supervisor applies it to a task that ended by itself (completed, failed or rejected):

- Condition `none` never refills its slot, `on-failure` refills it only after a failure (a
  task that completed is left), `any` after either.
- The replacement starts Delay after the manager saw the task end (docker's default 5 s when
  a policy leaves Delay out).
- With MaxAttempts, a slot is refilled at most that many times; with a Window, only the
  restarts of the last Window count (older ones no longer hold a restart back).

A spec without a RestartPolicy keeps porter's former behaviour: the slot is refilled at once,
for ever. The decisions here are pure functions of the policy, the task and the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from porterd.errors import InvalidParameter

CONDITIONS = ("none", "on-failure", "any")
DEFAULT_DELAY = 5_000_000_000  # ns, swarmkit's default when a policy gives none
ENDED = frozenset({"complete", "failed", "rejected"})  # ended by itself, not shut down
SECOND = 1_000_000_000


def normalized(value: Any) -> dict[str, Any] | None:
    """TaskTemplate.RestartPolicy checked, with docker's defaults for the fields left out
    (Condition any, MaxAttempts 0; Delay is left out as docker leaves it); None if absent."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidParameter("invalid service spec: TaskTemplate.RestartPolicy must be an object")
    policy = dict(value)
    condition = policy.get("Condition") or "any"
    if condition not in CONDITIONS:
        raise InvalidParameter(
            f"invalid RestartPolicy.Condition {condition!r}: none, on-failure or any"
        )
    policy["Condition"] = condition
    policy["MaxAttempts"] = policy.get("MaxAttempts") or 0
    for key in ("Delay", "MaxAttempts", "Window"):
        number = policy.get(key)
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise InvalidParameter(
                f"invalid RestartPolicy.{key} {number!r}: a whole number, not negative"
            )
    return policy


@dataclass(frozen=True)
class Policy:
    condition: str = "any"
    delay: float = 0.0  # seconds
    max_attempts: int = 0  # 0: no limit
    window: float = 0.0  # seconds; 0: every restart counts

    @classmethod
    def of(cls, template: dict[str, Any]) -> Policy | None:
        """The policy of a task template, or None when it has none."""
        given = template.get("RestartPolicy")
        if not given:
            return None
        return cls(
            condition=given.get("Condition") or "any",
            delay=given.get("Delay", DEFAULT_DELAY) / SECOND,
            max_attempts=given.get("MaxAttempts") or 0,
            window=(given.get("Window") or 0) / SECOND,
        )


@dataclass(frozen=True)
class Decision:
    """What becomes of an ended task's slot: refilled at `at` (seconds since the epoch), or
    never (`at` None); `history` is the times of the slot's restarts that still count, which
    the replacement carries (with its own restart) for the next decision."""

    at: float | None
    history: tuple[float, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"At": self.at, "History": list(self.history)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Decision:
        return cls(value.get("At"), tuple(value.get("History") or ()))


def decide(policy: Policy, state: str, history: tuple[float, ...], now: float) -> Decision:
    """The decision for a slot whose task ended in `state` (complete, failed or rejected)
    at `now`, after the slot's earlier restarts at the times in `history`."""
    if policy.condition == "none" or (policy.condition == "on-failure" and state == "complete"):
        return Decision(None)
    if policy.max_attempts == 0:
        return Decision(now + policy.delay)
    counted = tuple(t for t in history if not policy.window or t >= now - policy.window)
    if len(counted) >= policy.max_attempts:
        return Decision(None, counted)
    return Decision(now + policy.delay, counted)
