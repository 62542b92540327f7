"""The restart policy over one service's slots in one reconciler round (see restart).

The slot (or node, for a global service) whose newest task ended by itself, of the spec as
it is now, is decided once, when the reconciler first sees the task ended: the decision is
stored on the task as it is shut down (`Restart`: when its slot may be refilled, or never),
so that a round later, or another leader, holds the slot as long. The replacement carries
the slot's restart times (`RestartHistory`) that MaxAttempts counts. A spec change (an
update, a rollback, --force) makes the ended task outdated: its slot is refilled at once,
as swarm refills a dead slot when its service is updated.
"""

from __future__ import annotations

from typing import Any

from porterd.cluster.restart import ENDED, Decision, Policy, decide
from porterd.cluster.scheduler import is_current

Key = int | str  # a replicated service's slot, or a global service's node id


def key_of(slot: int | None, node_id: str) -> Key:
    return slot if slot is not None else node_id


class Restarts:
    def __init__(self, service: dict[str, Any], tasks: list[dict[str, Any]], now: float) -> None:
        self.now = now
        self.policy = Policy.of(service["Spec"]["TaskTemplate"])
        self.decided: dict[str, Decision] = {}  # task id -> decision made this round
        self.held: dict[Key, float | None] = {}  # key -> when it may be refilled, or never
        self.carried: dict[Key, tuple[float, ...]] = {}
        if self.policy is None:
            return
        newest: dict[Key, dict[str, Any]] = {}
        for task in tasks:
            key = key_of(task.get("Slot"), task["NodeID"])
            if key not in newest or task.get("CreatedAt", "") > newest[key].get("CreatedAt", ""):
                newest[key] = task
        for key, task in newest.items():
            decision = self._decision(task, service)
            if decision is None:
                continue
            if decision.at is None or decision.at > now:
                self.held[key] = decision.at
            else:
                self.carried[key] = decision.history

    def _decision(self, task: dict[str, Any], service: dict[str, Any]) -> Decision | None:
        assert self.policy is not None
        state = task["Status"]["State"]
        if state not in ENDED or not is_current(task, service):
            return None
        if task.get("Restart") is not None:
            return Decision.from_json(task["Restart"])
        if task.get("DesiredState") != "running":
            return None  # shut down by the cluster before it ended: no restart of its own
        history = tuple(task.get("RestartHistory") or ())
        decision = decide(self.policy, state, history, self.now)
        self.decided[task["ID"]] = decision
        return decision

    def noted(self, task: dict[str, Any]) -> dict[str, Any]:
        """`task`, being shut down, with the decision this round made on its slot, if any."""
        decision = self.decided.get(task["ID"])
        return task if decision is None else {**task, "Restart": decision.to_json()}

    def holds(self, slot: int | None, node_id: str) -> bool:
        """Whether the policy keeps this slot (or the global service's node) empty now."""
        return key_of(slot, node_id) in self.held

    def carry(self, task: dict[str, Any]) -> dict[str, Any]:
        """A new task in a slot refilled after a restart decision, with the slot's restart
        times that still count and its own (only a MaxAttempts needs them)."""
        key = key_of(task.get("Slot"), task["NodeID"])
        if key not in self.carried or self.policy is None or not self.policy.max_attempts:
            return task
        return {**task, "RestartHistory": [*self.carried[key], self.now]}

    def due(self) -> float | None:
        """Seconds until the first held slot may be refilled, or None."""
        times = [at for at in self.held.values() if at is not None]
        return max(min(times) - self.now, 0.0) if times else None
