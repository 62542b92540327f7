"""Fixtures of porter-image's unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from porter_image.distribution.session import HttpSession


@pytest.fixture
def session() -> Iterator[HttpSession]:
    """A registry HTTP session, closed (its idle connections with it) after the test."""
    with HttpSession() as opened:
        yield opened
