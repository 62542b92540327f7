"""Failed logins are limited per client address and user, with Retry-After."""

from __future__ import annotations

import pytest
from porter_registry.errors import RegistryError
from porter_registry.login_limiter import LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def exhausted(clock: Clock, attempts: int = 3) -> LoginLimiter:
    limiter = LoginLimiter(attempts, clock=clock)
    for _ in range(attempts):
        limiter.check("10.0.0.1", "alice")
        limiter.failed("10.0.0.1", "alice")
        clock.now += 1
    return limiter


def test_attempts_beyond_the_limit_are_refused_with_retry_after() -> None:
    clock = Clock()
    limiter = exhausted(clock)
    with pytest.raises(RegistryError) as refused:
        limiter.check("10.0.0.1", "alice")
    assert refused.value.error_code.code == "TOOMANYREQUESTS"
    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] == "57"


def test_the_limit_is_per_address_and_user() -> None:
    limiter = exhausted(Clock())
    limiter.check("10.0.0.2", "alice")
    limiter.check("10.0.0.1", "bob")


def test_failures_leave_the_window_after_a_minute() -> None:
    clock = Clock()
    limiter = exhausted(clock)
    clock.now += 58
    limiter.check("10.0.0.1", "alice")


def test_a_success_clears_the_failures() -> None:
    clock = Clock()
    limiter = LoginLimiter(2, clock=clock)
    limiter.failed("a", "u")
    limiter.succeeded("a", "u")
    limiter.failed("a", "u")
    limiter.check("a", "u")


def test_zero_turns_limiting_off() -> None:
    limiter = LoginLimiter(0, clock=Clock())
    for _ in range(100):
        limiter.failed("a", "u")
    limiter.check("a", "u")


def test_the_table_forgets_the_oldest_clients_past_its_size() -> None:
    limiter = LoginLimiter(1, clock=Clock(), max_clients=2)
    for address in ("a", "b", "c"):
        limiter.failed(address, "u")
    limiter.check("a", "u")
    with pytest.raises(RegistryError):
        limiter.check("c", "u")
