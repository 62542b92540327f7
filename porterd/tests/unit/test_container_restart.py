"""Restart policies decide as dockerd's restart manager does."""

from __future__ import annotations

from porterd.containers.restart import FIRST_DELAY, MAX_DELAY, RestartPolicy, restart_delay


def test_no_never_restarts() -> None:
    assert not RestartPolicy("no").should_restart(1, 0, manually_stopped=False)


def test_always_restarts_on_success_and_failure_but_not_after_a_stop() -> None:
    policy = RestartPolicy("always")
    assert policy.should_restart(0, 5, manually_stopped=False)
    assert policy.should_restart(1, 5, manually_stopped=False)
    assert not policy.should_restart(1, 5, manually_stopped=True)


def test_on_failure_restarts_only_on_failure_up_to_its_count() -> None:
    policy = RestartPolicy("on-failure", 2)
    assert not policy.should_restart(0, 0, manually_stopped=False)
    assert policy.should_restart(3, 1, manually_stopped=False)
    assert not policy.should_restart(3, 2, manually_stopped=False)


def test_on_failure_without_a_count_restarts_forever() -> None:
    assert RestartPolicy("on-failure").should_restart(1, 1000, manually_stopped=False)


def test_with_the_daemon_always_starts_and_unless_stopped_only_if_not_stopped() -> None:
    assert RestartPolicy("always").restarts_with_daemon(manually_stopped=True)
    assert RestartPolicy("unless-stopped").restarts_with_daemon(manually_stopped=False)
    assert not RestartPolicy("unless-stopped").restarts_with_daemon(manually_stopped=True)
    assert not RestartPolicy("on-failure").restarts_with_daemon(manually_stopped=False)


def test_the_delay_doubles_up_to_a_minute_and_resets_after_a_long_run() -> None:
    assert restart_delay(0, 0.1) == FIRST_DELAY
    assert restart_delay(0.4, 0.1) == 0.8
    assert restart_delay(MAX_DELAY, 0.1) == MAX_DELAY
    assert restart_delay(8.0, 30.0) == FIRST_DELAY
