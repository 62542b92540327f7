"""Times as dockerd reads them: the `until` of list and prune filters, RFC 3339 stamps."""

from __future__ import annotations

import time

import pytest
from porterd.errors import InvalidParameter

from porterd import clock


def test_a_duration_counts_back_from_now() -> None:
    assert abs(clock.filter_until("10m") - (time.time() - 600)) < 5


def test_a_fractional_duration_is_accepted() -> None:
    assert abs(clock.filter_until("1.5h") - (time.time() - 5400)) < 5


def test_seconds_since_the_epoch_are_taken_as_they_are() -> None:
    assert clock.filter_until("1700000000.5") == 1700000000.5


def test_an_rfc3339_time_with_its_zone_is_read() -> None:
    assert clock.filter_until("2023-11-14T22:13:20Z") == 1700000000


def test_anything_else_is_an_invalid_parameter_naming_the_filter() -> None:
    with pytest.raises(InvalidParameter, match="invalid filter 'until=yesterday'"):
        clock.filter_until("yesterday")


def test_an_rfc3339_stamp_keeps_its_nanoseconds() -> None:
    assert clock.time_ns("2023-11-14T22:13:20.000000123Z") == 1_700_000_000_000_000_123
    assert clock.time_ns(clock.rfc3339(1_700_000_000_000_000_123)) == 1_700_000_000_000_000_123


def test_a_stamp_that_is_not_rfc3339_is_refused() -> None:
    with pytest.raises(ValueError, match="not an RFC 3339 time"):
        clock.time_ns("14 Nov 2023")
