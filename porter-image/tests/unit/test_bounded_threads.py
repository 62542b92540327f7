"""run_bounded: calls on a bounded number of threads, results in call order, failures stop it."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

import pytest
from porter_image.bounded_threads import run_bounded


class Gauge:
    """How many calls run at once, at most."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.lock = threading.Lock()
        self.all_started = threading.Barrier(3, timeout=5)

    def call(self, value: int, meet: bool = False) -> Callable[[], int]:
        def run() -> int:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            if meet:
                self.all_started.wait()  # hold until three run side by side
            with self.lock:
                self.now -= 1
            return value

        return run


def test_the_results_come_in_the_order_of_the_calls() -> None:
    gauge = Gauge()
    assert run_bounded([gauge.call(n) for n in range(20)], 4) == list(range(20))


def test_no_more_calls_run_at_once_than_the_bound() -> None:
    gauge = Gauge()
    calls = [gauge.call(n, meet=n < 3) for n in range(12)]
    assert run_bounded(calls, 3) == list(range(12))
    assert gauge.most == 3


def test_an_empty_list_of_calls_gives_no_results() -> None:
    assert run_bounded([], 3) == []


def test_after_a_failure_no_further_call_starts_and_it_is_raised() -> None:
    started: list[int] = []

    def call(n: int) -> Callable[[], int]:
        def run() -> int:
            started.append(n)
            if n == 2:
                raise ValueError("call 2 failed")
            return n

        return run

    with pytest.raises(ValueError, match="call 2 failed"):
        run_bounded([call(n) for n in range(10)], 1)
    assert started == [0, 1, 2]


def test_of_two_failures_the_first_in_call_order_is_raised() -> None:
    both_running = threading.Barrier(2, timeout=5)

    def fail(message: str) -> Callable[[], int]:
        def run() -> int:
            both_running.wait()
            raise RuntimeError(message)

        return run

    with pytest.raises(RuntimeError, match="first"):
        run_bounded([fail("first"), fail("second")], 2)


class Interrupted(Exception):
    """What this test's SIGINT handler raises in the thread waiting on the calls."""


def test_an_interrupt_starts_no_further_call_and_waits_for_the_running_one() -> None:
    started: list[int] = []
    finished: list[int] = []
    released = threading.Event()

    def interrupted(signum: int, frame: object) -> None:
        released.set()
        raise Interrupted

    def call(n: int) -> Callable[[], int]:
        def run() -> int:
            started.append(n)
            if n == 0:
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
                released.wait(5)
                time.sleep(0.2)  # still running well after the interrupt was handled
            finished.append(n)
            return n

        return run

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        with pytest.raises(Interrupted):
            run_bounded([call(n) for n in range(5)], 1)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (started, finished) == ([0], [0])
