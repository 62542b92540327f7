"""porterd.cluster.restart: docker's TaskTemplate.RestartPolicy checked, and the decision on
the slot of a task that ended by itself, as swarmkit's restart supervisor makes it."""

from __future__ import annotations

from typing import Any

import pytest
from porterd.cluster.restart import DEFAULT_DELAY, Decision, Policy, decide, normalized
from porterd.cluster.restart_slots import Restarts
from porterd.cluster.store import new_task
from porterd.errors import InvalidParameter

NOW = 1_000_000.0


def test_a_policy_without_a_condition_restarts_on_any_end() -> None:
    assert normalized({"MaxAttempts": 3}) == {"Condition": "any", "MaxAttempts": 3}


def test_no_policy_stays_none() -> None:
    assert normalized(None) is None


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"Condition": "always"}, "Condition 'always': none, on-failure or any"),
        ({"Delay": -1}, r"Delay -1: a whole number"),
        ({"MaxAttempts": "2"}, r"MaxAttempts '2': a whole number"),
        ([], "RestartPolicy must be an object"),
    ],
)
def test_a_malformed_policy_is_one_error_naming_the_field(policy: Any, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        normalized(policy)


def test_a_policy_without_a_delay_waits_docker_s_five_seconds() -> None:
    policy = Policy.of({"RestartPolicy": {"Condition": "any"}})
    assert policy is not None and policy.delay == DEFAULT_DELAY / 1e9 == 5.0


def test_a_template_without_a_policy_has_none() -> None:
    assert Policy.of({"ContainerSpec": {"Image": "busybox"}}) is None


def test_any_refills_a_failed_slot_after_the_delay() -> None:
    assert decide(Policy(delay=5), "failed", (), NOW) == Decision(NOW + 5)


def test_any_refills_a_completed_slot_too() -> None:
    assert decide(Policy(delay=2), "complete", (), NOW).at == NOW + 2


def test_on_failure_leaves_a_completed_slot_empty() -> None:
    assert decide(Policy("on-failure"), "complete", (), NOW).at is None


def test_on_failure_refills_a_failed_or_rejected_slot() -> None:
    assert decide(Policy("on-failure"), "failed", (), NOW).at == NOW
    assert decide(Policy("on-failure"), "rejected", (), NOW).at == NOW


def test_none_never_refills() -> None:
    assert decide(Policy("none"), "failed", (), NOW).at is None


def test_max_attempts_refills_until_that_many_restarts() -> None:
    policy = Policy(max_attempts=2)
    assert decide(policy, "failed", (NOW - 2,), NOW) == Decision(NOW, (NOW - 2,))
    assert decide(policy, "failed", (NOW - 2, NOW - 1), NOW).at is None


def test_restarts_older_than_the_window_no_longer_count() -> None:
    policy = Policy(max_attempts=2, window=10)
    decision = decide(policy, "failed", (NOW - 30, NOW - 11, NOW - 3), NOW)
    assert decision == Decision(NOW, (NOW - 3,))


def test_restarts_within_the_window_count() -> None:
    policy = Policy(max_attempts=2, window=10)
    assert decide(policy, "failed", (NOW - 9, NOW - 3), NOW).at is None


def test_a_decision_reads_back_from_its_json() -> None:
    decision = Decision(NOW + 5, (NOW - 1,))
    assert Decision.from_json(decision.to_json()) == decision


# -- over a service's slots --------------------------------------------------------------------


def service(policy: dict[str, Any] | None) -> dict[str, Any]:
    template: dict[str, Any] = {"ContainerSpec": {"Image": "busybox"}}
    if policy is not None:
        template["RestartPolicy"] = policy
    spec = {"Name": "web", "TaskTemplate": template, "Mode": {"Replicated": {"Replicas": 1}}}
    return {"ID": "svc", "Spec": spec}


def ended(svc: dict[str, Any], state: str = "failed", **fields: Any) -> dict[str, Any]:
    task = new_task(svc, 1, "node-a")
    return {**task, "Status": {"State": state}, **fields}


def test_without_a_policy_no_slot_is_held() -> None:
    svc = service(None)
    restarts = Restarts(svc, [ended(svc)], NOW)
    assert not restarts.holds(1, "") and restarts.due() is None


def test_a_failed_slot_is_held_for_the_delay_and_the_decision_noted() -> None:
    svc = service({"Condition": "any", "Delay": 3 * 10**9})
    task = ended(svc)
    restarts = Restarts(svc, [task], NOW)
    assert restarts.holds(1, "") and restarts.due() == 3.0
    assert restarts.noted(task)["Restart"] == {"At": NOW + 3, "History": []}


def test_a_slot_decided_before_is_refilled_once_its_time_comes() -> None:
    svc = service({"Condition": "any", "Delay": 3 * 10**9, "MaxAttempts": 5})
    task = ended(svc, DesiredState="shutdown", Restart={"At": NOW - 1, "History": [NOW - 9]})
    restarts = Restarts(svc, [task], NOW)
    assert not restarts.holds(1, "")
    fresh = restarts.carry(new_task(svc, 1, "node-b"))
    assert fresh["RestartHistory"] == [NOW - 9, NOW]


def test_a_task_of_an_older_spec_does_not_hold_its_slot() -> None:
    svc = service({"Condition": "none"})
    task = ended(service({"Condition": "none", "Delay": 0}))
    assert not Restarts(svc, [task], NOW).holds(1, "")


def test_a_task_the_cluster_shut_down_before_it_ended_does_not_hold_its_slot() -> None:
    svc = service({"Condition": "none"})
    task = ended(svc, "failed", DesiredState="shutdown")
    assert not Restarts(svc, [task], NOW).holds(1, "")
