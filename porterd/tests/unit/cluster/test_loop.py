"""porterd.cluster.loop.Periodic: a round at start, when woken, when a round asked for one
and at the safety interval; rounds go on after a store error or a failed round.

Every loop here has an interval far longer than the test waits, so that a round seen can only
come from the wake under test."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from porterd.cluster.etcd import NoQuorum
from porterd.cluster.loop import Periodic

LONG = 3600.0
WAIT = 10.0


class Rounds:
    """A round that counts itself and lets the test wait for the n-th."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def __call__(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def reach(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= count, WAIT)


def test_rounds_go_on_after_a_store_error_and_a_failed_round() -> None:
    calls: list[int] = []
    done = threading.Event()

    def round() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise NoQuorum("the cluster store has no quorum")
        if len(calls) == 2:
            raise RuntimeError("a bug")
        done.set()

    loop = Periodic("test-loop", round, 0.01)
    loop.start()
    try:
        assert done.wait(WAIT)
    finally:
        loop.stop()
    assert len(calls) >= 3


def test_a_stopped_loop_runs_no_more_rounds() -> None:
    calls: list[int] = []
    loop = Periodic("test-loop", lambda: calls.append(1), 0.01)
    loop.start()
    loop.stop()
    seen = len(calls)
    threading.Event().wait(0.05)
    assert len(calls) == seen


@contextlib.contextmanager
def running(rounds: Rounds) -> Iterator[Periodic]:
    """A loop of `rounds` with a long interval, started, its first round run; stopped after."""
    loop = Periodic("test-loop", rounds, LONG)
    loop.start()
    try:
        assert rounds.reach(1)
        yield loop
    finally:
        loop.stop()


def test_the_first_round_runs_when_the_loop_starts() -> None:
    with running(Rounds()):
        pass


def test_a_woken_loop_runs_a_round_before_its_interval_ends() -> None:
    rounds = Rounds()
    with running(rounds) as loop:
        loop.wake()
        assert rounds.reach(2)


def test_a_round_asked_for_in_some_seconds_runs_before_the_interval_ends() -> None:
    rounds = Rounds()
    with running(rounds) as loop:
        loop.wake_in(0.05)
        assert rounds.reach(2)


def test_wakes_that_come_during_a_round_make_one_more_round_not_one_each() -> None:
    inside, release = threading.Event(), threading.Event()
    rounds = Rounds()

    def round() -> None:
        rounds()
        if rounds.count == 1:
            inside.set()
            release.wait(WAIT)

    loop = Periodic("test-loop", round, LONG, gap=0.0)
    loop.start()
    try:
        assert inside.wait(WAIT)
        for _ in range(10):
            loop.wake()
        release.set()
        assert rounds.reach(2)
        threading.Event().wait(0.2)
    finally:
        loop.stop()
    assert rounds.count == 2


def test_a_loop_started_again_after_a_stop_runs_rounds_again() -> None:
    rounds = Rounds()
    with running(rounds):
        pass
    with running(rounds):
        assert rounds.reach(2)
