"""porterd.cluster.autoscale: HPA-style decisions with tolerance, bounds and stabilisation."""

from __future__ import annotations

from porterd.cluster.autoscale import Recommendation, Sample, decide, recommend
from porterd.cluster.spec import AutoscalePolicy

CPU70 = AutoscalePolicy(2, 10, cpu_percent=70.0)


def test_cpu_above_target_asks_for_proportionally_more_replicas() -> None:
    assert recommend(CPU70, 3, Sample(cpu_percent=140)) == (6, "cpu 140% against a target of 70%")


def test_a_load_within_the_tolerance_asks_for_no_change() -> None:
    assert recommend(CPU70, 3, Sample(cpu_percent=75)) == (3, "cpu 75% against a target of 70%")


def test_rps_is_compared_per_task() -> None:
    policy = AutoscalePolicy(1, 10, rps=100)
    assert recommend(policy, 2, Sample(rps=600)) == (
        6,
        "rps 300 req/s per task against a target of 100 req/s per task",
    )


def test_the_largest_metric_recommendation_wins() -> None:
    policy = AutoscalePolicy(1, 20, cpu_percent=50, rps=100)
    assert recommend(policy, 2, Sample(cpu_percent=100, rps=800)) == (
        8,
        "rps 400 req/s per task against a target of 100 req/s per task",
    )


def test_scaling_up_happens_at_once_and_says_why() -> None:
    decision, _ = decide(CPU70, 3, Sample(cpu_percent=140), [], now=1000)
    assert decision is not None
    assert (decision.current, decision.desired) == (3, 6)
    assert "cpu 140% against a target of 70%" in decision.reason


def test_the_maximum_bounds_a_scale_up() -> None:
    decision, _ = decide(CPU70, 8, Sample(cpu_percent=280), [], now=1000)
    assert decision is not None and decision.desired == 10
    assert "held within 2..10" in decision.reason


def test_a_service_below_its_minimum_is_raised_to_it() -> None:
    decision, _ = decide(CPU70, 1, Sample(cpu_percent=70), [], now=1000)
    assert decision is not None and decision.desired == 2


def test_scaling_down_waits_for_the_largest_recommendation_of_the_window() -> None:
    history = [Recommendation(900, 6)]
    decision, _ = decide(CPU70, 6, Sample(cpu_percent=10), history, now=1000)
    assert decision is None


def test_scaling_down_happens_once_the_high_recommendations_leave_the_window() -> None:
    history = [Recommendation(600, 6), Recommendation(800, 4)]
    decision, kept = decide(CPU70, 6, Sample(cpu_percent=10), history, now=1000)
    assert decision is not None and decision.desired == 4
    assert "stabilised at 4" in decision.reason
    assert [r.at for r in kept] == [800, 1000]


def test_an_up_window_keeps_a_short_spike_from_scaling_up() -> None:
    history = [Recommendation(990, 3)]
    decision, _ = decide(CPU70, 3, Sample(cpu_percent=200), history, now=1000, up_window=30)
    assert decision is None


def test_no_metric_means_no_decision_and_no_recommendation_kept() -> None:
    assert decide(CPU70, 3, Sample(), [], now=1000) == (None, [])


def test_a_count_below_the_minimum_is_raised_even_without_a_metric() -> None:
    decision, _ = decide(CPU70, 1, Sample(), [], now=1000)
    assert decision is not None and decision.desired == 2
    assert decision.reason == "no metric yet; held within 2..10"


def test_the_policys_down_window_holds_the_count_until_it_has_passed() -> None:
    policy = AutoscalePolicy.parse("min=1,max=4,cpu=50%,down-window=15s")
    history = [Recommendation(990, 3)]
    held, _ = decide(policy, 3, Sample(cpu_percent=0), history, now=1000)
    assert held is None
    later, _ = decide(policy, 3, Sample(cpu_percent=0), history, now=1006)
    assert later is not None and later.desired == 1
