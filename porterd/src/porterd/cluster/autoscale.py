"""Autoscaling decisions as pure functions, as Kubernetes' HPA makes them.

Each metric gives a recommendation, ceil(replicas x observed / target), ignored within a 10 %
tolerance; the largest recommendation wins. Stabilisation: scaling up takes the smallest
recommendation of the last `up_window` seconds, scaling down the largest of the last
`down_window` seconds (the policy's windows: none up and 300 s down unless its label sets
them, as the HPA's defaults), so a short spike or lull does not make the count flap. The
result is kept within min..max, and every decision carries its reason.

CPU follows the HPA's rules for tasks without a usable sample: the mean is taken over the
ready tasks that reported one; if that asks to scale up, tasks without a sample yet and tasks
not yet ready count as 0 %; if it asks to scale down, tasks without a sample count as 100 % (or
the target, if higher) and tasks not yet ready are left out. When the figure so completed
falls within the tolerance or asks the other way, the count stays. So a scale-up is not
followed by another on the old tasks' figure while the new ones start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from porterd.cluster.spec import AutoscalePolicy

TOLERANCE = 0.1


@dataclass(frozen=True)
class Sample:
    """Load over the service's running tasks: mean CPU % of one core each over the ready tasks
    that reported a sample (`cpu_ready` of them; None: as many as the service's replicas),
    how many running tasks have no sample yet (`cpu_missing`) and how many are not yet ready
    (`cpu_unready`), and `rps`: the new connections per second to its published ports over
    every node, as the routing mesh counts them (requests only for clients that open a
    connection per request)."""

    cpu_percent: float | None = None
    rps: float | None = None
    cpu_ready: int | None = None
    cpu_missing: int = 0
    cpu_unready: int = 0


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
    if sample.cpu_percent is not None and policy.cpu_percent is not None:
        target = policy.cpu_percent
        wanted, shown = cpu_replicas(current, sample, target)
        proposals.append((wanted, f"cpu {shown:.0f}% against a target of {target:g}%"))
    if sample.rps is not None and policy.rps is not None:
        # rps is the total of new connections the balancer saw; the target holds it per task.
        per_task = sample.rps / max(current, 1)
        ratio = per_task / policy.rps
        wanted = current if abs(ratio - 1) <= TOLERANCE else math.ceil(max(current, 1) * ratio)
        unit = " connections/s per task"
        proposals.append(
            (wanted, f"rps {per_task:.0f}{unit} against a target of {policy.rps:g}{unit}")
        )
    return max(proposals) if proposals else None


def cpu_replicas(current: int, sample: Sample, target: float) -> tuple[int, float]:
    """The replica count the CPU sample asks for and the mean it used, with the HPA's rules
    for tasks that have no sample yet or are not yet ready."""
    assert sample.cpu_percent is not None
    mean = sample.cpu_percent
    ready = max(current, 1) if sample.cpu_ready is None else sample.cpu_ready
    ratio = mean / target
    if not sample.cpu_missing and not (sample.cpu_unready and ratio > 1):
        return (current if abs(ratio - 1) <= TOLERANCE else math.ceil(ready * ratio)), mean
    total, count = mean * ready, ready
    if ratio < 1:  # scaling down: a task without a sample might be busy
        total += sample.cpu_missing * max(100.0, target)
        count += sample.cpu_missing
    elif ratio > 1:  # scaling up: the tasks not yet sampled or ready might be idle
        count += sample.cpu_missing + sample.cpu_unready
    completed = total / count if count else mean
    new_ratio = completed / target
    if abs(new_ratio - 1) <= TOLERANCE or (ratio - 1) * (new_ratio - 1) < 0:
        return current, completed
    wanted = math.ceil(count * new_ratio)
    if (new_ratio < 1 and wanted > current) or (new_ratio > 1 and wanted < current):
        return current, completed
    return wanted, completed


def decide(
    policy: AutoscalePolicy,
    current: int,
    sample: Sample,
    history: list[Recommendation],
    now: float,
) -> tuple[Decision | None, list[Recommendation]]:
    """A decision (None when the count stays) and the recommendations to keep for next time.
    Without a metric nothing is recommended, but a count outside min..max is brought in; the
    stabilisation windows are the policy's."""
    recommended = recommend(policy, current, sample)
    if recommended is None:
        bounded = min(max(current, policy.minimum), policy.maximum)
        if bounded == current:
            return None, history
        reason = f"no metric yet; held within {policy.minimum}..{policy.maximum}"
        return Decision(now, current, bounded, reason), history
    wanted, reason = recommended
    horizon = now - max(policy.up_window, policy.down_window)
    kept = [r for r in history if r.at >= horizon] + [Recommendation(now, wanted)]
    ups = [r.replicas for r in kept if r.at >= now - policy.up_window]
    downs = [r.replicas for r in kept if r.at >= now - policy.down_window]
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
