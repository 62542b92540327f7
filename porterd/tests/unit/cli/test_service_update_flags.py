"""`service create|update`'s update flags turned into the spec's UpdateConfig: the monitor
window and the max failure ratio, as docker's flags of the same names."""

from __future__ import annotations

from typing import Any

import pytest
from porter_cli.errors import CliError
from porter_cli.service.spec import apply_shared


def applied(**flags: Any) -> dict[str, Any]:
    spec = {"TaskTemplate": {"ContainerSpec": {"Image": "busybox"}}}
    return apply_shared(spec, flags)["UpdateConfig"]


def test_the_monitor_window_is_a_duration_in_nanoseconds() -> None:
    assert applied(update_monitor="1m30s")["Monitor"] == 90_000_000_000


def test_the_max_failure_ratio_is_kept() -> None:
    assert applied(update_max_failure_ratio=0.25)["MaxFailureRatio"] == 0.25


def test_a_max_failure_ratio_above_one_is_one_error_naming_the_flag() -> None:
    with pytest.raises(CliError, match='"--update-max-failure-ratio" flag: expected 0 to 1'):
        applied(update_max_failure_ratio=1.5)
