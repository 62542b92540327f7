"""`service create|update`'s restart flags turned into TaskTemplate.RestartPolicy, as docker's
flags of the same names: nothing unless one is given, and an update changes only those given."""

from __future__ import annotations

from typing import Any

import pytest
from porter_cli.errors import CliError
from porter_cli.service.spec import apply_shared


def policy(template: dict[str, Any] | None = None, **flags: Any) -> dict[str, Any] | None:
    spec = {"TaskTemplate": template or {"ContainerSpec": {"Image": "busybox"}}}
    return apply_shared(spec, flags)["TaskTemplate"].get("RestartPolicy")


def test_no_restart_flag_sets_no_policy() -> None:
    assert policy() is None


def test_every_restart_flag_lands_in_the_policy() -> None:
    assert policy(
        restart_condition="on-failure",
        restart_delay="1m30s",
        restart_max_attempts=2,
        restart_window="10s",
    ) == {
        "Condition": "on-failure",
        "Delay": 90_000_000_000,
        "MaxAttempts": 2,
        "Window": 10_000_000_000,
    }


def test_an_update_keeps_the_fields_it_does_not_name() -> None:
    template = {
        "ContainerSpec": {"Image": "busybox"},
        "RestartPolicy": {"Condition": "none", "Delay": 1, "MaxAttempts": 4},
    }
    assert policy(template, restart_max_attempts=0) == {
        "Condition": "none",
        "Delay": 1,
        "MaxAttempts": 0,
    }


def test_a_zero_delay_is_kept() -> None:
    assert policy(restart_delay="0") == {"Delay": 0}


def test_a_negative_max_attempts_is_one_error_naming_the_flag() -> None:
    with pytest.raises(CliError, match='"--restart-max-attempts" flag: cannot be negative'):
        policy(restart_max_attempts=-1)


def test_a_malformed_delay_is_one_error_naming_the_flag() -> None:
    with pytest.raises(CliError, match='"--restart-delay" flag'):
        policy(restart_delay="soon")
