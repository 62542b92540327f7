"""Autoscaling decisions as pure functions, as Kubernetes' HPA makes them.

Each metric gives a recommendation, ceil(replicas x observed / target), ignored within a 10 %
tolerance; the largest recommendation wins. Stabilisation: scaling up takes the smallest
recommendation of the last `up_window` seconds, scaling down the largest of the last
`down_window` seconds (the policy's windows: none up and 300 s down unless its label sets
them, as the HPA's defaults), so a short spike or lull does not make the count flap. The
result is kept within min..max, and every decision carries its reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from porterd.cluster.spec import AutoscalePolicy

TOLERANCE = 0.1


@dataclass(frozen=True)
class Sample:
    """Load over the service's running tasks: mean CPU % of one core each, total requests/s."""

    cpu_percent: float | None = None
    rps: float | None = None


@dataclass(frozen=True)
class Recommendation:
    at: float
    replicas: int


@dataclass(frozen=True)
class Decision:
    at: float
    current: int
    desired: int
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"At": self.at, "From": self.current, "To": self.desired, "Reason": self.reason}


def recommend(policy: AutoscalePolicy, current: int, sample: Sample) -> tuple[int, str] | None:
    """The replica count the latest sample asks for, and why (before stabilisation); None
    when the sample holds none of the policy's metrics."""
    proposals: list[tuple[int, str]] = []
    for name, observed, target, per_task in (
        ("cpu", sample.cpu_percent, policy.cpu_percent, True),
        ("rps", sample.rps, policy.rps, False),
    ):
        if observed is None or target is None:
            continue
        # cpu is the mean over the tasks; rps the total, which the target holds per task.
        ratio = observed / target if per_task else observed / (target * max(current, 1))
        wanted = current if abs(ratio - 1) <= TOLERANCE else math.ceil(max(current, 1) * ratio)
        unit = "%" if per_task else " req/s per task"
        shown = observed if per_task else observed / max(current, 1)
        proposals.append((wanted, f"{name} {shown:.0f}{unit} against a target of {target:g}{unit}"))
    return max(proposals) if proposals else None


def decide(
    policy: AutoscalePolicy,
    current: int,
    sample: Sample,
    history: list[Recommendation],
    now: float,
    *,
    up_window: float | None = None,
    down_window: float | None = None,
) -> tuple[Decision | None, list[Recommendation]]:
    """A decision (None when the count stays) and the recommendations to keep for next time.
    Without a metric nothing is recommended, but a count outside min..max is brought in. The
    windows are the policy's unless given."""
    up_window = policy.up_window if up_window is None else up_window
    down_window = policy.down_window if down_window is None else down_window
    recommended = recommend(policy, current, sample)
    if recommended is None:
        bounded = min(max(current, policy.minimum), policy.maximum)
        if bounded == current:
            return None, history
        reason = f"no metric yet; held within {policy.minimum}..{policy.maximum}"
        return Decision(now, current, bounded, reason), history
    wanted, reason = recommended
    horizon = now - max(up_window, down_window)
    kept = [r for r in history if r.at >= horizon] + [Recommendation(now, wanted)]
    ups = [r.replicas for r in kept if r.at >= now - up_window]
    downs = [r.replicas for r in kept if r.at >= now - down_window]
    if wanted > current:
        desired = max(current, min(ups))
    elif wanted < current:
        desired = min(current, max(downs))
    else:
        desired = current
    bounded = min(max(desired, policy.minimum), policy.maximum)
    if bounded != desired:
        reason += f"; held within {policy.minimum}..{policy.maximum}"
    elif desired != wanted:
        reason += f"; stabilised at {desired} instead of {wanted}"
    if bounded == current:
        return None, kept
    return Decision(now, current, bounded, reason), kept
