"""The reconciler the leader runs: each round it reads the cluster, then for each service
takes the next step of its update, its autoscaling decision and the scheduler's plan, and
writes the tasks that change in one transaction (a round that lost a race to an agent's
report is simply done again next round).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from porterd.cluster import pending
from porterd.cluster import spec as specs
from porterd.cluster.autoscale import Recommendation, Sample, decide
from porterd.cluster.etcd import EtcdError
from porterd.cluster.loop import SAFETY_INTERVAL, Periodic
from porterd.cluster.membership import DEFAULT_TTL, Departures, as_new_leader_sees
from porterd.cluster.mesh import service_rps
from porterd.cluster.restart_slots import Restarts
from porterd.cluster.scheduler import NodeInfo, is_live, plan
from porterd.cluster.store import ClusterStore, new_task
from porterd.cluster.updates import update_step
from porterd.cluster.wake import due_in
from porterd.errors import Conflict, DaemonError

log = logging.getLogger(__name__)

HISTORY_LIMIT = 5  # ended tasks kept per slot, as swarm's task history limit
DECISIONS_KEPT = 10

Publish = Callable[[str, str, str, dict[str, str]], object]


def cpu_sample(tasks: list[dict[str, Any]]) -> Sample:
    """Mean CPU use of the ready tasks, as their agents reported it, and how many live tasks
    have no sample yet or are not yet ready, as the HPA groups pods. A task is ready once its
    container runs and, with a health check, is healthy: a sample taken while it was still
    starting (or one reported before, as the health check had not yet passed) does not count.
    The agent reports a sample only over a window in which the container ran throughout."""
    values: list[float] = []
    missing = unready = 0
    for task in tasks:
        if not is_live(task):
            continue
        status = task["Status"]
        health = (status.get("ContainerStatus") or {}).get("Health")
        if status["State"] != "running" or health not in (None, "healthy"):
            unready += 1
        elif "CPUPercent" in status.get("Usage", {}):
            values.append(status["Usage"]["CPUPercent"])
        else:
            missing += 1
    return Sample(
        cpu_percent=sum(values) / len(values) if values else None,
        cpu_ready=len(values),
        cpu_missing=missing,
        cpu_unready=unready,
    )


def expired_history(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ended tasks beyond the newest HISTORY_LIMIT of their slot (or node, when global)."""
    ended: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for task in tasks:
        if task.get("DesiredState") != "running" and not is_live(task):
            slot = task.get("Slot") or task["NodeID"]
            ended.setdefault((task["ServiceID"], slot), []).append(task)
    expired = []
    for group in ended.values():
        group.sort(key=lambda task: task.get("CreatedAt", ""), reverse=True)
        expired.extend(group[HISTORY_LIMIT:])
    return expired


class Reconciler:
    def __init__(
        self,
        store: ClusterStore,
        *,
        publish: Publish | None = None,
        interval: float = SAFETY_INTERVAL,
        clock: Callable[[], float] = time.time,
        sample: Callable[[list[dict[str, Any]]], Sample] = cpu_sample,
        rates: Callable[[str], float | None] | None = None,
        grace: float = DEFAULT_TTL,
    ) -> None:
        self.store = store
        self.grace = grace  # seconds after it begins to lead before a node down is down
        self.settled_at = 0.0
        # Nodes seen going down while this node ran, which a new leader need not wait for.
        self.departures = Departures(store.key("alive", ""))
        self.publish = publish
        self.clock = clock
        self.sample = sample
        # A service's connections per second, as the nodes' routing meshes count them.
        self.rates = rates or (lambda service_id: service_rps(store, service_id))
        self.recommendations: dict[str, list[Recommendation]] = {}
        self.loop = Periodic("cluster-reconciler", self.reconcile_once, interval)

    def reconcile_once(self) -> None:
        now = self.clock()
        nodes = [NodeInfo.from_node(node) for node in self.store.nodes()]
        nodes = as_new_leader_sees(nodes, self.settled_at, now, self.departures.nodes)
        tasks, read_at = self.store.tasks_at()
        services = self.store.services()
        waits = []
        for service in services:
            try:
                waits.append(self.reconcile_service(service, nodes, tasks, read_at))
            except Conflict as error:
                log.debug("service %s changed meanwhile: %s", service["ID"], error)
            except EtcdError:
                raise  # the store cannot answer: the whole round waits for it
            except DaemonError as error:
                # A step of this service's own refused (a rollback to a spec whose network
                # is gone): the other services are reconciled all the same.
                log.warning("service %s: %s", service["ID"], error)
        due = min(
            (wait for wait in [due_in(services, now, self.settled_at), *waits] if wait is not None),
            default=None,
        )
        if due is not None:
            self.loop.wake_in(due)
        expired = expired_history(tasks)
        if expired:
            self.store.write_tasks([], expired)

    def reconcile_service(
        self,
        service: dict[str, Any],
        nodes: list[NodeInfo],
        tasks: list[dict[str, Any]],
        read_at: int,
    ) -> float | None:
        """Take the service's next steps; seconds until its restart policy lets a slot it
        holds empty be refilled, or None."""
        own = [task for task in tasks if task["ServiceID"] == service["ID"]]
        service = self._autoscale(service, own)
        step = update_step(service, own, self.clock())
        status = step.status
        if step.rollback:  # the previous spec back with why, in one write
            service, status = self._roll_back(service, status)
        elif status is not None:
            service = self.store.set_service_status(service, UpdateStatus=status)
        if status is not None:
            self._event(service, "update", status.get("Message", ""))
        changed: dict[str, dict[str, Any]] = {}
        for task in step.replace:
            if step.order == "start-first":
                fresh = new_task(service, task.get("Slot"), task["NodeID"])
                changed[fresh["ID"]] = fresh
            else:
                changed[task["ID"]] = {**task, "DesiredState": "shutdown"}
        others = [task for task in tasks if task["ServiceID"] != service["ID"]]
        current = [changed.get(task["ID"], task) for task in own]
        current += [task for task in changed.values() if "Version" not in task]
        result = plan(service, nodes, others + current)
        restarts = Restarts(service, current, self.clock())
        for task in current:
            if task["ID"] in result.shutdown:
                message = result.shutdown[task["ID"]]
                changed[task["ID"]] = restarts.noted(
                    {
                        **task,
                        "DesiredState": "shutdown",
                        "Status": {**task["Status"], "Message": message},
                    }
                )
        for slot, node_id in result.create:
            if restarts.holds(slot, node_id):
                continue
            held = result.waiting.get(slot) if slot is not None else None
            for t in pending.placed(service, slot, held, node_id):
                changed[t["ID"]] = restarts.carry(t) if t["DesiredState"] == "running" else t
        for slot in result.pending:
            if restarts.holds(slot, ""):
                continue
            task = pending.waiting(service, slot, result.waiting.get(slot), result.reason)
            if task is not None:
                changed[task["ID"]] = task
        if result.unplaced:
            log.info(
                "service %s: %d task(s) pending: %s", service["ID"], result.unplaced, result.reason
            )
        if changed:
            self.store.write_tasks(list(changed.values()), read_at=read_at)
        return restarts.due()

    def _roll_back(
        self, service: dict[str, Any], status: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Bring the previous spec back with `status`; a rollback refused for good (its spec
        names an overlay network removed since: NotFound) pauses the update with the reason,
        as swarm pauses a rollback that fails, instead of being tried again every round."""
        try:
            rolled = self.store.update_service(
                service["ID"], service["Version"]["Index"], None, rollback=True, status=status
            )
        except (Conflict, EtcdError):
            raise  # the service changed meanwhile, or the store cannot answer: next round
        except DaemonError as error:
            paused = {
                **(service.get("UpdateStatus") or {}),
                "State": "paused",
                "Message": f"update paused: rollback refused: {error}",
            }
            return self.store.set_service_status(service, UpdateStatus=paused), paused
        return rolled, status

    def _autoscale(self, service: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, Any]:
        policy = specs.autoscale_policy(service["Spec"])
        replicas = specs.replicas(service["Spec"])
        if policy is None or replicas is None:
            return service
        history = self.recommendations.get(service["ID"], [])
        sample = self.sample(tasks)
        if policy.rps is not None:
            sample = dataclasses.replace(sample, rps=self.rates(service["ID"]))
        decision, kept = decide(policy, replicas, sample, history, self.clock())
        self.recommendations[service["ID"]] = kept
        if decision is None:
            return service
        spec = {**service["Spec"], "Mode": {"Replicated": {"Replicas": decision.desired}}}
        decisions = service.get("Autoscale", {}).get("Decisions", [])
        decisions = [*decisions, decision.to_json()][-DECISIONS_KEPT:]
        service = self.store.set_service_status(
            service, Spec=spec, Autoscale={"Decisions": decisions}
        )
        self._event(
            service, "autoscale", f"{decision.current} -> {decision.desired}: {decision.reason}"
        )
        return service

    def _event(self, service: dict[str, Any], action: str, message: str) -> None:
        if self.publish is not None:
            attributes = {"name": service["Spec"]["Name"], "message": message}
            self.publish("service", action, service["ID"], attributes)

    # -- the loop, run while this node leads ---------------------------------------------------

    def leading(self, leads: bool) -> None:
        """Membership's callback: run while this node leads."""
        if leads:
            self.settled_at = self.clock() + self.grace
            self.loop.start()
        else:
            self.loop.stop()
