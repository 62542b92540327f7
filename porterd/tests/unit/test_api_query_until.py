"""`until` in the filters of the prune and list routes, shared by images and networks."""

from __future__ import annotations

import time

import pytest
from porterd.api import query
from porterd.errors import InvalidParameter


def test_a_duration_counts_back_from_now() -> None:
    assert abs(query.until("10m") - (time.time() - 600)) < 5


def test_a_fractional_duration_is_accepted() -> None:
    assert abs(query.until("1.5h") - (time.time() - 5400)) < 5


def test_seconds_since_the_epoch_are_taken_as_they_are() -> None:
    assert query.until("1700000000.5") == 1700000000.5


def test_an_rfc3339_time_with_its_zone_is_read() -> None:
    assert query.until("2023-11-14T22:13:20Z") == 1700000000


def test_anything_else_is_an_invalid_parameter_naming_the_filter() -> None:
    with pytest.raises(InvalidParameter, match="invalid filter 'until=yesterday'"):
        query.until("yesterday")
