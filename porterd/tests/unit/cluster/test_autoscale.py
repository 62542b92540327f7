"""porterd.cluster.autoscale: HPA-style decisions with tolerance, bounds and stabilisation."""

from __future__ import annotations

from porterd.cluster.autoscale import Recommendation, Sample, decide, recommend
from porterd.cluster.reconciler import cpu_sample
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
        "rps 300 connections/s per task against a target of 100 connections/s per task",
    )


def test_the_largest_metric_recommendation_wins() -> None:
    policy = AutoscalePolicy(1, 20, cpu_percent=50, rps=100)
    assert recommend(policy, 2, Sample(cpu_percent=100, rps=800)) == (
        8,
        "rps 400 connections/s per task against a target of 100 connections/s per task",
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
    policy = AutoscalePolicy(2, 10, cpu_percent=70.0, up_window=30)
    decision, _ = decide(policy, 3, Sample(cpu_percent=200), history, now=1000)
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


def test_a_task_without_a_sample_yet_counts_as_idle_when_scaling_up() -> None:
    # 1 -> 2 on a task at 100 %: the new task has no sample yet, so 100 % is no reason for 3.
    sample = Sample(cpu_percent=100, cpu_ready=1, cpu_missing=1)
    assert recommend(CPU70, 2, sample) == (2, "cpu 50% against a target of 70%")


def test_a_task_not_yet_ready_counts_as_idle_when_scaling_up() -> None:
    sample = Sample(cpu_percent=100, cpu_ready=1, cpu_unready=1)
    assert recommend(CPU70, 2, sample) == (2, "cpu 50% against a target of 70%")


def test_a_load_high_enough_scales_up_even_with_tasks_counted_idle() -> None:
    sample = Sample(cpu_percent=300, cpu_ready=1, cpu_missing=1)
    assert recommend(CPU70, 2, sample) == (5, "cpu 150% against a target of 70%")


def test_a_task_without_a_sample_counts_as_busy_when_scaling_down() -> None:
    sample = Sample(cpu_percent=10, cpu_ready=3, cpu_missing=1)
    assert recommend(CPU70, 4, sample) == (2, "cpu 32% against a target of 70%")


def test_a_task_not_yet_ready_is_left_out_when_scaling_down() -> None:
    sample = Sample(cpu_percent=10, cpu_ready=3, cpu_unready=1)
    assert recommend(CPU70, 4, sample) == (1, "cpu 10% against a target of 70%")


def _task(state: str, cpu: float | None = None, health: str | None = None) -> dict[str, object]:
    status: dict[str, object] = {"State": state, "ContainerStatus": {}}
    if health is not None:
        status["ContainerStatus"] = {"Health": health}
    if cpu is not None:
        status["Usage"] = {"CPUPercent": cpu}
    return {"DesiredState": "running", "Status": status}


def test_the_sample_groups_tasks_as_ready_without_a_sample_or_not_ready() -> None:
    tasks = [
        _task("running", 80),
        _task("running", 40, health="healthy"),
        _task("running"),
        _task("starting"),
        _task("running", 90, health="starting"),
        {**_task("running", 99), "DesiredState": "shutdown"},
    ]
    assert cpu_sample(tasks) == Sample(cpu_percent=60, cpu_ready=2, cpu_missing=1, cpu_unready=2)


def test_no_second_scale_up_on_the_old_figure_while_the_new_task_starts() -> None:
    policy = AutoscalePolicy(1, 10, cpu_percent=70.0)
    first, history = decide(policy, 1, cpu_sample([_task("running", 100)]), [], now=1000)
    assert first is not None and first.desired == 2
    for new_task in (_task("pending"), _task("running")):
        tasks = [_task("running", 100), new_task]
        again, history = decide(policy, 2, cpu_sample(tasks), history, now=1000.2)
        assert again is None
